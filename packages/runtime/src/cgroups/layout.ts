import { posix } from 'node:path';

/**
 * Where the cgroup hierarchies are and where this process sits in them,
 * parsed from /proc/self/mountinfo and /proc/self/cgroup. Pure functions over
 * file contents, so unit tests can feed any layout.
 */

/** A mounted v1 hierarchy (possibly several co-mounted controllers, e.g. "cpu,cpuacct"). */
export interface V1Hierarchy {
  controllers: string[];
  /** Where it is mounted (host path). */
  mountPoint: string;
  /** The cgroup path at the root of that mount (usually "/"). */
  mountRoot: string;
}

export interface CgroupMounts {
  v1: V1Hierarchy[];
  /** The cgroup2 mount, if any (on hybrid systems, /sys/fs/cgroup/unified). */
  v2?: { mountPoint: string; mountRoot: string };
}

/** Undo mountinfo's octal escapes (a space is "\040"). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: [] };
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const mountRoot = fields[3];
    const mountPoint = fields[4];
    if (mountRoot === undefined || mountPoint === undefined) continue;
    if (fstype === 'cgroup2') {
      mounts.v2 ??= { mountPoint: unescape(mountPoint), mountRoot: unescape(mountRoot) };
    } else if (fstype === 'cgroup') {
      const controllers = superOptions
        .split(',')
        .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('name=') && !o.includes('='))
        .filter((o) => !['noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'none'].includes(o));
      if (controllers.length > 0) {
        mounts.v1.push({ controllers, mountPoint: unescape(mountPoint), mountRoot: unescape(mountRoot) });
      }
    }
  }
  return mounts;
}

/** /proc/self/cgroup as a map: controller name (or "" for v2) to cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, controllers = '', path = '/'] = match;
    if (controllers === '') paths.set('', path);
    for (const c of controllers.split(',')) if (c && !c.startsWith('name=')) paths.set(c, path);
  }
  return paths;
}

/** The directory of cgroup PATH inside a hierarchy mounted at mountPoint with root mountRoot. */
export function cgroupDir(mountPoint: string, mountRoot: string, path: string): string {
  const relative =
    mountRoot !== '/' && (path === mountRoot || path.startsWith(`${mountRoot}/`)) ? path.slice(mountRoot.length) : path;
  return posix.join(mountPoint, relative);
}
