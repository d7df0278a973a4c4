import { posix } from 'node:path';
import { O_DIRECTORY, isSyscallError, type Syscalls } from '@berth/syscall';
import { ArchiveError } from '../errors.js';
import { openEntry, openInRoot, resolveInScope, splitPath } from './scope.js';

/**
 * A request's `path` as moby's container.ResolvePath reads it: joined to
 * `/` and cleaned, keeping a trailing `/` or `/.` (they mean "follow the
 * last component, which must be a directory").
 */
export function dockerAbsPath(raw: string): string {
  let abs = posix.join('/', raw);
  if (abs.length > 1 && abs.endsWith('/')) abs = abs.slice(0, -1);
  const currentDir = posix.basename(raw) === '.' || raw === '.' || raw.endsWith('/.');
  if (currentDir && posix.basename(abs) !== '.') abs += abs.endsWith('/') ? '.' : '/.';
  else if (raw.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

/** One path of a request, resolved inside a container's root: the fds stay valid while the caller holds them. */
export interface ResolvedTarget {
  /** Go's filepath.Base of the absolute path: the stat's name and the archive's top entry. */
  name: string;
  /** The container path of the directory holding the target, symlinks resolved. */
  resolvedDir: string;
  /** O_PATH fd on that directory. */
  dirFd: number;
  /** The last component (not followed), or undefined when the path ends in `/` or `/.` (the directory itself). */
  base: string | undefined;
  /** O_PATH fd on the target itself (the directory's fd when `base` is undefined). */
  fd: number;
}

export function notFound(raw: string, container: string): ArchiveError {
  return new ArchiveError('NotFound', `Could not find the file ${raw} in container ${container}`);
}

/** Maps the kernel's answer for a bad path to the API's: 404 missing, 400 for a path that cannot be walked. */
export function pathError(error: unknown, raw: string, container: string): unknown {
  const code = isSyscallError(error) || error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (code === 'ENOENT') return notFound(raw, container);
  // readlink of what was a symlink a moment ago: the container changed it meanwhile.
  if (code === 'EINVAL') return new ArchiveError('Conflict', `${raw} in container ${container} changed while it was being read; try again`, { cause: error });
  if (code === 'ENOTDIR') return new ArchiveError('InvalidParameter', `bad path ${raw}: a component of it is not a directory`, { cause: error });
  if (code === 'ELOOP') return new ArchiveError('InvalidParameter', `bad path ${raw}: too many levels of symbolic links (or a /proc magic link)`, { cause: error });
  if (code === 'ENAMETOOLONG') return new ArchiveError('InvalidParameter', `bad path ${raw}: name too long`, { cause: error });
  return error;
}

/** Resolves the directory part of `raw` in scope and opens the target without following a last symlink. */
export function resolveTarget(sys: Syscalls, rootFd: number, raw: string, container: string): ResolvedTarget {
  if (raw === '') throw new ArchiveError('InvalidParameter', 'bad parameter: pathcannot be empty');
  if (raw.includes('\0')) throw new ArchiveError('InvalidParameter', 'bad parameter: path contains a NUL byte');
  const abs = dockerAbsPath(raw);
  const cut = abs.lastIndexOf('/');
  const file = abs.slice(cut + 1);
  const base = file === '' || file === '.' ? undefined : file;
  const name = abs === '/' || abs === '/.' ? (abs === '/' ? '/' : '.') : posix.basename(abs);
  let dirFd = -1;
  try {
    const resolvedDir = resolveInScope(sys, rootFd, abs.slice(0, cut + 1));
    dirFd = openInRoot(sys, rootFd, splitPath(resolvedDir), O_DIRECTORY);
    const fd = base === undefined ? dirFd : openEntry(sys, dirFd, base);
    return { name, resolvedDir, dirFd, base, fd };
  } catch (error) {
    if (dirFd >= 0) sys.close(dirFd);
    throw pathError(error, raw, container);
  }
}

export function closeTarget(sys: Syscalls, t: ResolvedTarget): void {
  if (t.fd !== t.dirFd) sys.close(t.fd);
  sys.close(t.dirFd);
}
