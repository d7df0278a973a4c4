import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { S_IFBLK, S_IFCHR, S_IFMT, major, minor } from '@berth/syscall';
import type { HostDevice, HostDevices } from './plan/devices.js';

// runc's HostDevices skips these: not devices of the host, or the host's own pts/shm/mqueue.
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function deviceOf(path: string, st: Stats): HostDevice | undefined {
  const kind = st.mode & S_IFMT;
  if (kind !== S_IFCHR && kind !== S_IFBLK) return undefined;
  return { path, type: kind === S_IFCHR ? 'c' : 'b', major: major(st.rdev), minor: minor(st.rdev), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function walk(dir: string, out: HostDevice[], skip: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = posix.join(dir, name);
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      continue; // gone meanwhile
    }
    if (st.isDirectory()) {
      if (!skip.has(name)) walk(path, out, new Set());
      continue;
    }
    // runc leaves /dev/console to the terminal setup.
    if (dir === '/dev' && name === 'console') continue;
    const dev = deviceOf(path, st);
    if (dev) out.push(dev);
  }
}

/** The host's device nodes, read with stat(2) on the calling thread (the host's mount namespace). */
export const linuxHostDevices: HostDevices = {
  at(path) {
    let st: Stats;
    try {
      // A symlink (/dev/disk/by-id/...) names the node it points to, as in Docker.
      st = statSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : String(code ?? error));
    }
    if (st.isDirectory()) {
      const out: HostDevice[] = [];
      walk(path, out, new Set());
      return out;
    }
    const dev = deviceOf(path, st);
    if (!dev) throw new Error('not a device node');
    return [dev];
  },
  all() {
    const out: HostDevice[] = [];
    walk('/dev', out, SKIPPED_DIRS);
    return out;
  },
};
