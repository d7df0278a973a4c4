import * as path from 'node:path';
import {
  O_CLOEXEC, O_DIRECTORY, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, isSyscallError,
  type Syscalls,
} from '@berth/syscall';
import { InvalidSubpathError, SubpathNotFoundError } from './errors.js';

export interface ResolvedSubpath {
  /** An O_PATH fd on the subpath; the caller closes it. Mount through `fdPath`, not `path`. */
  fd: number;
  /** `/proc/thread-self/fd/N`: the resolved object, immune to later symlink swaps. */
  fdPath: string;
  /** The host path it resolved to, for messages and inspect output. */
  path: string;
}

/** Docker's lexical check: not absolute, and does not climb out after cleaning. */
export function checkSubpath(subpath: string): string {
  const cleaned = path.posix.normalize(subpath);
  if (subpath === '' || path.posix.isAbsolute(subpath) || cleaned === '..' || cleaned.startsWith('../')) {
    throw new InvalidSubpathError(subpath);
  }
  return cleaned;
}

/**
 * Resolve a `volume-subpath` inside a volume's data directory. The kernel
 * does the walk (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so `..` and
 * symlinks planted in the volume cannot lead outside it (runc CVE-2021-30465).
 * Synchronous: callable inside a mount namespace.
 */
export function resolveSubpath(dataDir: string, subpath: string, sys: Syscalls): ResolvedSubpath {
  const cleaned = checkSubpath(subpath);
  const dirfd = sys.open(dataDir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    let fd: number;
    try {
      fd = sys.openat2(dirfd, cleaned, {
        flags: O_PATH | O_CLOEXEC,
        mode: 0,
        resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
      });
    } catch (error) {
      if (isSyscallError(error, 'ENOENT') || isSyscallError(error, 'ENOTDIR')) throw new SubpathNotFoundError(subpath, dataDir);
      if (isSyscallError(error, 'EXDEV') || isSyscallError(error, 'ELOOP')) throw new InvalidSubpathError(subpath, { cause: error });
      throw error;
    }
    return { fd, fdPath: `/proc/thread-self/fd/${fd}`, path: path.join(dataDir, cleaned) };
  } finally {
    sys.close(dirfd);
  }
}
