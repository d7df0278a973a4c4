import { FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_TOPDIR_FL, O_CLOEXEC, O_DIRECTORY, O_RDONLY } from './constants.js';
import { isSyscallError } from './errors.js';
import type { Syscalls } from './signatures.js';

/**
 * The answers of a filesystem that keeps no inode flags, or not this one
 * (tmpfs, overlay, xfs, btrfs), or will not let this process set it (a
 * directory it does not own, a read-only mount): a placement hint is then
 * skipped, never a reason to fail.
 */
const UNSUPPORTED = new Set(['ENOTTY', 'EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'EPERM', 'EACCES', 'EROFS']);

/**
 * Marks `dir` as the top of directory hierarchies (`chattr +T`), so ext4
 * places each new subdirectory, and everything made inside it, in a block
 * group of its own choosing (Orlov) instead of next to `dir`. A hint: false
 * when the filesystem keeps no such flag or will not let this process set
 * it; any other failure (an I/O error) thrown.
 */
export function markTopDirectory(sys: Syscalls, dir: string): boolean {
  const fd = sys.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    const flags = Buffer.alloc(8);
    sys.ioctl(fd, FS_IOC_GETFLAGS, flags);
    const now = flags.readInt32LE(0);
    if ((now & FS_TOPDIR_FL) !== 0) return true;
    flags.writeInt32LE(now | FS_TOPDIR_FL, 0);
    sys.ioctl(fd, FS_IOC_SETFLAGS, flags);
    return true;
  } catch (error) {
    if (isSyscallError(error) && UNSUPPORTED.has(error.code)) return false;
    throw error;
  } finally {
    sys.close(fd);
  }
}
