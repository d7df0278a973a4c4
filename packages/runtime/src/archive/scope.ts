import { lstatSync, readlinkSync } from 'node:fs';
import {
  O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
  SyscallError, errnoNumber, type Syscalls,
} from '@berth/syscall';

/**
 * A path below an O_PATH fd, usable with Node's fs: the magic link jumps to
 * exactly the fd's dentry, so only `name` (one component, no `/`) is looked
 * up, and calls that do not follow a final symlink (lstat, readlink, unlink,
 * symlink, mkdir, lchown, open with O_NOFOLLOW) stay in that directory.
 */
export function under(dirFd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`;
}

/** Path components with `.` and empty parts dropped (`..` kept: it is applied while resolving). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

const MAX_HOPS = 255;

/**
 * Resolves `path` inside the container's root the way moby's
 * FollowSymlinkInScope does, as a container-absolute path with every
 * symlink (the last one too) replaced by its target, evaluated inside the
 * root. Components that do not exist are kept as they are. Every lookup is
 * an `openat2(RESOLVE_IN_ROOT)` from the root fd, so a symlink swapped in
 * meanwhile changes the answer but never leads outside the root.
 */
export function resolveInScope(sys: Syscalls, rootFd: number, path: string): string {
  const done: string[] = [];
  let todo = splitPath(path);
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const parent = openInRoot(sys, rootFd, done, O_DIRECTORY);
    let target: string | undefined;
    try {
      const st = lstatSync(under(parent, part), { throwIfNoEntry: false });
      if (st === undefined) {
        done.push(part);
        for (const rest of todo) {
          if (rest === '..') done.pop();
          else done.push(rest);
        }
        break;
      }
      if (st.isSymbolicLink()) target = readlinkSync(under(parent, part));
    } finally {
      sys.close(parent);
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_HOPS) throw new SyscallError('openat2', errnoNumber('ELOOP'), [path]);
    if (target.startsWith('/')) done.length = 0;
    todo = [...splitPath(target), ...todo];
  }
  return '/' + done.join('/');
}

/** An O_PATH fd on a container path (components already resolved), never leaving the root. */
export function openInRoot(sys: Syscalls, rootFd: number, parts: readonly string[], extraFlags = 0): number {
  return sys.openat2(rootFd, parts.length === 0 ? '.' : parts.join('/'), {
    flags: O_PATH | O_CLOEXEC | extraFlags, mode: 0, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  });
}

/** An O_PATH fd on `name` in `dirFd`, the entry itself (a symlink is not followed). */
export function openEntry(sys: Syscalls, dirFd: number, name: string): number {
  return sys.openat2(dirFd, name, {
    flags: O_PATH | O_CLOEXEC | O_NOFOLLOW, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  });
}
