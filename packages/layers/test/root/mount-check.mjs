// Child process for root tests: mounts what LayerStore.mountFor returned in a
// throwaway mount namespace, reports what the merged tree holds as JSON, and
// exits, taking the namespace and its mounts with it.
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CLONE_FS, CLONE_NEWNS, LinuxSyscalls, MS_BIND, MS_PRIVATE, MS_REC } from '@berth/syscall';

const { mount, paths = [], dirs = [], tree = false } = JSON.parse(process.argv[2]);
const sys = new LinuxSyscalls();
sys.unshare(CLONE_NEWNS | CLONE_FS);
sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
if (mount.type === 'bind') sys.mount(mount.source, mount.target, null, MS_BIND | (mount.options.includes('rbind') ? MS_REC : 0), null);
else sys.mount(mount.source, mount.target, mount.type, 0, mount.options.join(','));

const typeOf = (st) => st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink'
  : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'other';
const entries = {};
for (const p of paths) {
  const full = join(mount.target, p);
  const st = lstatSync(full, { throwIfNoEntry: false });
  if (!st) { entries[p] = null; continue; }
  const e = { type: typeOf(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, ino: st.ino, nlink: st.nlink, rdev: st.rdev };
  if (st.isSymbolicLink()) e.target = readlinkSync(full);
  if (st.isFile() && st.size < 4096) e.content = readFileSync(full, 'utf8');
  const xattr = sys.lgetxattr(full, 'user.note');
  if (xattr) e.note = xattr.toString();
  entries[p] = e;
}
const listings = {};
for (const d of dirs) listings[d] = readdirSync(join(mount.target, d)).sort();
const all = [];
const walk = (rel) => {
  for (const name of readdirSync(join(mount.target, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    all.push(r);
    if (lstatSync(join(mount.target, r)).isDirectory()) walk(r);
  }
};
if (tree) walk('');
process.stdout.write(JSON.stringify({ entries, listings, tree: all }));
