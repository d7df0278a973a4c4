import { readlinkSync } from 'node:fs';
import {
  O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_PATH, O_WRONLY, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
  SyscallError, errnoNumber, isSyscallError, type Syscalls,
} from '@berth/syscall';

export type CreateAs = 'dir' | 'file';

/** The path of an open fd, usable as a mount target: mount(2) follows the magic link to the fd's own dentry. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

const MAX_SYMLINK_HOPS = 40;
const ENOENT = errnoNumber('ENOENT');

/**
 * Resolves paths inside a container's root filesystem without ever leaving
 * it: every lookup is `openat2(RESOLVE_IN_ROOT)` from an fd on the root, so an
 * image that plants `/data -> /etc` or `-> /proc/self/root/etc` gets its own
 * `/etc`, never the host's (runc CVE-2021-30465). Missing components are
 * created one at a time through the fd of their resolved parent; a dangling
 * symlink is followed (inside the root) the way runc's securejoin does.
 */
export class RootResolver {
  readonly rootFd: number;

  constructor(private readonly sys: Syscalls, rootPath: string) {
    this.rootFd = sys.open(rootPath, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  }

  /**
   * An O_PATH fd on `path` (absolute inside the container), creating it if
   * missing. With `noSymlinks`, a symlink anywhere on the way is refused
   * (ELOOP): /proc, /dev and /sys must be real directories (CVE-2019-16884).
   */
  open(path: string, create: CreateAs | undefined, noSymlinks = false): number {
    const resolve = RESOLVE_IN_ROOT | (noSymlinks ? RESOLVE_NO_SYMLINKS : 0);
    let parts = components(path);
    // A missing path is expected here (a mount point the image lacks): a return code, not a thrown error.
    const fd = this.tryOpenRel(join(parts), resolve);
    if (fd >= 0) return fd;
    if (!create || fd !== -ENOENT) throw new SyscallError('openat2', -fd, [path]);
    for (let hops = 0; ; hops++) {
      const followed = this.create(parts, create, resolve, noSymlinks);
      if (typeof followed === 'number') return followed;
      if (hops >= MAX_SYMLINK_HOPS) throw new SyscallError('openat2', errnoNumber('ELOOP'), [path]);
      parts = followed;
    }
  }

  close(): void {
    this.sys.close(this.rootFd);
  }

  /** Creates what is missing of `parts`; returns the fd, or the path to retry after a dangling symlink. */
  private create(parts: string[], create: CreateAs, resolve: number, noSymlinks: boolean): number | string[] {
    let parent = this.openRel('.', resolve);
    try {
      for (let i = 0; i < parts.length; i++) {
        const prefix = join(parts.slice(0, i + 1));
        let fd = this.tryOpenRel(prefix, resolve);
        if (fd < 0) {
          if (fd !== -ENOENT) throw new SyscallError('openat2', -fd, [prefix]);
          const name = parts[i]!;
          try {
            this.make(parent, name, i === parts.length - 1 ? create : 'dir');
          } catch (makeError) {
            if (noSymlinks || !isSyscallError(makeError, 'EEXIST')) throw makeError;
            // A dangling symlink: continue from its target, still inside the root.
            const target = readlinkSync(`${fdPath(parent)}/${name}`);
            const base = target.startsWith('/') ? [] : parts.slice(0, i);
            return components([...base, target, ...parts.slice(i + 1)].join('/'));
          }
          fd = this.openRel(prefix, resolve);
        }
        this.sys.close(parent);
        parent = fd;
      }
      const result = parent;
      parent = -1;
      return result;
    } finally {
      if (parent >= 0) this.sys.close(parent);
    }
  }

  private make(parent: number, name: string, as: CreateAs): void {
    if (as === 'file') {
      const how = { flags: O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode: 0o644, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
      this.sys.close(this.sys.openat2(parent, name, how));
    } else {
      this.sys.mkdirat(parent, name, 0o755);
    }
  }

  private tryOpenRel(rel: string, resolve: number): number {
    return this.sys.tryOpenat2(this.rootFd, rel, { flags: O_PATH | O_CLOEXEC, mode: 0, resolve });
  }

  private openRel(rel: string, resolve: number): number {
    return this.sys.openat2(this.rootFd, rel, { flags: O_PATH | O_CLOEXEC, mode: 0, resolve });
  }
}

/** An absolute container path as the relative path the resolver (and a batched `attachTrees`) opens from the root fd. */
export function pathInRoot(path: string): string {
  return join(components(path));
}

/** Path components with `.` dropped and `..` applied, never climbing above the root. */
function components(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

function join(parts: readonly string[]): string {
  return parts.length === 0 ? '.' : parts.join('/');
}
