import { posix } from 'node:path';
import { parseMountinfo } from '@berth/syscall';

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

/** The cgroup hierarchies of a mountinfo text (parsed by @berth/syscall's one parser). */
export function cgroupMounts(text: string): CgroupMounts {
  const mounts: CgroupMounts = { v1: [] };
  for (const m of parseMountinfo(text)) {
    if (m.fstype === 'cgroup2') {
      mounts.v2 ??= { mountPoint: m.mountPoint, mountRoot: m.root };
    } else if (m.fstype === 'cgroup') {
      const controllers = m.superOptions
        .split(',')
        .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('name=') && !o.includes('='))
        .filter((o) => !['noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'none'].includes(o));
      if (controllers.length > 0) mounts.v1.push({ controllers, mountPoint: m.mountPoint, mountRoot: m.root });
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
