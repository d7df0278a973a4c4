import {
  S_IFCHR, makedev, type Syscalls,
} from '@berth/syscall';
import type { DevPlan, SystemMount } from '../plan/index.js';
import { fdPath, type RootResolver } from './resolve.js';

/**
 * The minimal /dev of a Docker container: a tmpfs with null, zero, full,
 * random, urandom and tty, a private devpts, shm and mqueue, and the usual
 * symlinks. Created through fds resolved inside the root, so an image whose
 * /dev is a symlink is refused instead of followed.
 */
export function setupDev(sys: Syscalls, root: RootResolver, dev: DevPlan): void {
  const mountPoint = root.open('/dev', 'dir', true);
  try {
    sys.mount('tmpfs', fdPath(mountPoint), 'tmpfs', dev.tmpfs.flags, dev.tmpfs.data);
  } finally {
    sys.close(mountPoint);
  }
  // Reopen: the fd taken before the mount points below it, not at the new tmpfs.
  const devFd = root.open('/dev', undefined, true);
  const at = (name: string) => `${fdPath(devFd)}/${name}`;
  try {
    for (const node of dev.devices) {
      sys.mknodat(devFd, node.name, S_IFCHR | node.mode, makedev(node.major, node.minor));
      // mknod honours the umask, which a worker thread cannot change.
      sys.fchmodat(devFd, node.name, node.mode);
      if (node.uid !== 0 || node.gid !== 0) sys.lchown(at(node.name), node.uid, node.gid);
    }
    for (const sub of dev.mounts) {
      sys.mkdirat(devFd, sub.name, 0o755);
      sys.mount(sub.fstype, at(sub.name), sub.fstype, sub.flags, sub.data);
    }
    for (const link of dev.symlinks) sys.symlinkat(link.target, devFd, link.name);
  } finally {
    sys.close(devFd);
  }
}

/** A kernel filesystem on a real directory of the root (sysfs on /sys, read-only as Docker's). */
export function setupSystemMount(sys: Syscalls, root: RootResolver, m: SystemMount): void {
  const fd = root.open(m.destination, 'dir', true);
  try {
    sys.mount(m.fstype, fdPath(fd), m.fstype, m.flags, null);
  } finally {
    sys.close(fd);
  }
}
