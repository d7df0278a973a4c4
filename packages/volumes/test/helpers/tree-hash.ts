import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Syscalls } from '@berth/syscall';

/**
 * One line per path: type, mode, owner, size, content hash, link target,
 * device number, xattrs, and the hardlink group the inode belongs to.
 * Two trees with the same hash are the same tree for everything a volume
 * user can observe (mtimes excluded: tar keeps seconds only).
 */
export function treeLines(root: string, sys: Syscalls): string[] {
  const lines: string[] = [];
  const groups = new Map<string, string>();
  const walk = (dir: string, rel: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      lines.push(describe(full, r));
      if (fs.lstatSync(full).isDirectory()) walk(full, r);
    }
  };
  const describe = (full: string, rel: string): string => {
    const st = fs.lstatSync(full, { bigint: true });
    const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p'
      : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : 's';
    const content = st.isFile() ? createHash('sha256').update(fs.readFileSync(full)).digest('hex') : '-';
    const link = st.isSymbolicLink() ? fs.readlinkSync(full) : '-';
    const xattrs = [...sys.llistxattr(full)].sort().map((n) => `${n}=${sys.lgetxattr(full, n)?.toString('hex') ?? ''}`);
    let group = '-';
    if (!st.isDirectory() && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      group = groups.get(key) ?? rel;
      groups.set(key, group);
    }
    const mode = (Number(st.mode) & 0o7777).toString(8);
    const dev = st.isCharacterDevice() || st.isBlockDevice() ? String(st.rdev) : '-';
    const size = st.isDirectory() ? '-' : String(st.size);
    return [rel, type, mode, st.uid, st.gid, size, content, link, dev, xattrs.join(','), `link-group:${group}`].join(' ');
  };
  lines.push(describe(root, '.'));
  walk(root, '');
  return lines;
}

export function treeHash(root: string, sys: Syscalls): string {
  return createHash('sha256').update(treeLines(root, sys).join('\n')).digest('hex');
}
