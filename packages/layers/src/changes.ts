import { fstatSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import {
  O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, isSyscallError, type Syscalls,
} from '@berth/syscall';

/** Docker's change kinds (`docker diff`'s C, A, D). */
export const CHANGE_MODIFY = 0;
export const CHANGE_ADD = 1;
export const CHANGE_DELETE = 2;

export interface Change {
  Path: string;
  Kind: typeof CHANGE_MODIFY | typeof CHANGE_ADD | typeof CHANGE_DELETE;
}

const OPAQUE = 'trusted.overlay.opaque';

/**
 * What a container changed, from its overlay upper directory (moby's
 * overlay changes walker): a 0/0 character device is a deletion (D); an
 * entry that also exists in a lower layer is a modification (C), except a
 * directory whose size, mode and mtime did not change (it was only copied
 * up for a child); anything else is an addition (A). The parent of an
 * addition or deletion is reported as modified. An opaque directory (the
 * lower one was removed and a new one made) is a modification, and what the
 * lower layers had in it and the new one lacks is deleted, as Docker's
 * diff shows it. Lower layers are looked up with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS): an image's symlinks never lead the walk elsewhere.
 */
export function overlayChanges(sys: Syscalls, upper: string, lowers: readonly string[]): Change[] {
  const lowerFds = lowers.map((dir) => sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
  // The upper directory is the container's to change while we walk it: every
  // step is fd-relative and follows no symlink, so a directory swapped for a
  // link to the host lists nothing of the host.
  const upperFd = sys.open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    const changes: Change[] = [];
    const changedDirs = new Set<string>();
    const inLower = (path: string): Stats | undefined => {
      for (const fd of lowerFds) {
        const st = statBeneath(sys, fd, path.slice(1));
        if (st) return st;
      }
      return undefined;
    };
    const record = (change: Change, isDir: boolean): void => {
      if (isDir) changedDirs.add(change.Path);
      if (change.Kind !== CHANGE_MODIFY) {
        const parent = change.Path.slice(0, change.Path.lastIndexOf('/')) || '/';
        if (parent !== '/' && !changedDirs.has(parent)) {
          changes.push({ Path: parent, Kind: CHANGE_MODIFY });
          changedDirs.add(parent);
        }
      }
      changes.push(change);
    };
    const walk = (dirFd: number, rel: string): void => {
      for (const name of readdirSync(fdPath(dirFd)).sort()) {
        const path = `${rel}/${name}`;
        const st = lstatSync(fdPath(dirFd, name), { throwIfNoEntry: false });
        if (!st) continue; // removed meanwhile
        if (st.isCharacterDevice() && st.rdev === 0) {
          record({ Path: path, Kind: CHANGE_DELETE }, false);
          continue;
        }
        const lower = inLower(path);
        const isDir = st.isDirectory();
        const childFd = isDir ? openBeneath(sys, dirFd, name, O_DIRECTORY) : undefined;
        if (isDir && childFd === undefined) continue; // swapped for something else meanwhile
        try {
          if (childFd !== undefined && lower?.isDirectory() && isOpaque(sys, fdPath(childFd, '.'))) {
            record({ Path: path, Kind: CHANGE_MODIFY }, true);
            const kept = new Set(readdirSync(fdPath(childFd)));
            for (const gone of lowerNames(sys, lowerFds, path).filter((n) => !kept.has(n)).sort()) {
              record({ Path: `${path}/${gone}`, Kind: CHANGE_DELETE }, false);
            }
          } else if (!lower) {
            record({ Path: path, Kind: CHANGE_ADD }, isDir);
          } else if (!(isDir && lower.isDirectory() && sameDir(st, lower))) {
            record({ Path: path, Kind: CHANGE_MODIFY }, isDir);
          }
          if (childFd !== undefined) walk(childFd, path);
        } finally {
          if (childFd !== undefined) sys.close(childFd);
        }
      }
    };
    walk(upperFd, '');
    return changes;
  } finally {
    sys.close(upperFd);
    for (const fd of lowerFds) sys.close(fd);
  }
}

function sameDir(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mode === b.mode && Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000);
}

function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** `path` ends in a real directory entry (`<fd>/.`), so the l-variant reads that directory, not a link. */
function isOpaque(sys: Syscalls, path: string): boolean {
  try {
    const v = sys.lgetxattr(path, OPAQUE);
    return v !== null && v.toString() === 'y';
  } catch (error) {
    if (isSyscallError(error, 'EOPNOTSUPP') || isSyscallError(error, 'ENOTSUP')) return false;
    throw error;
  }
}

function openBeneath(sys: Syscalls, dirFd: number, rel: string, extra = 0): number | undefined {
  try {
    return sys.openat2(dirFd, rel, { flags: O_PATH | O_CLOEXEC | extra, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS });
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].some((code) => isSyscallError(error, code))) return undefined;
    throw error;
  }
}

/** The entry at `rel` in a layer, never through a symlink and never outside it; undefined when absent. */
function statBeneath(sys: Syscalls, layerFd: number, rel: string): Stats | undefined {
  const fd = openBeneath(sys, layerFd, rel, O_NOFOLLOW);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    // A whiteout in a lower layer hides what is below it: the path does not exist there.
    return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
  } finally {
    sys.close(fd);
  }
}

/** The names the lower layers (merged, top first, honouring whiteouts) show in directory `path`. */
function lowerNames(sys: Syscalls, lowerFds: readonly number[], path: string): string[] {
  const seen = new Set<string>();
  const shown: string[] = [];
  for (const fd of lowerFds) {
    const dir = openBeneath(sys, fd, path.slice(1), O_DIRECTORY);
    if (dir === undefined) continue;
    try {
      for (const name of readdirSync(`/proc/self/fd/${dir}`)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const st = lstatSync(`/proc/self/fd/${dir}/${name}`);
        if (!(st.isCharacterDevice() && st.rdev === 0)) shown.push(name);
      }
      if (isOpaque(sys, fdPath(dir, '.'))) break;
    } finally {
      sys.close(dir);
    }
  }
  return shown;
}
