import { statSync } from 'node:fs';
import { MS_BIND, MS_PRIVATE, MS_REC } from '@berth/syscall';
import type { PlannedMount, RootfsMount } from '../plan/index.js';
import type { MountPoint } from '../runtime-types.js';

/** What a worker needs to show a stopped container's files: its rootfs and its volumes and binds. */
export interface ViewTask {
  rootfs: RootfsMount;
  mounts: PlannedMount[];
  /** berth's own mount namespace, which the view's namespace is made from. */
  berthNamespaceFd: number;
}

export interface ViewOpened {
  /** O_PATH fd on the container's root inside the view. */
  rootFd: number;
  /** fd on the view's mount namespace: it lives (and its mounts with it) until this is closed. */
  namespaceFd: number;
}

/**
 * A container's recorded volumes and binds as mounts for a view of its
 * files. tmpfs mounts have no content once the container is stopped and are
 * left out, as with Docker; a volume or bind whose source is gone is too.
 */
export function viewMounts(mounts: readonly MountPoint[]): PlannedMount[] {
  const out: PlannedMount[] = [];
  for (const m of mounts) {
    if (m.Type === 'tmpfs' || m.Source === '') continue;
    let isFile: boolean;
    try {
      isFile = !statSync(m.Source).isDirectory();
    } catch {
      continue;
    }
    out.push({
      kind: 'bind', type: m.Type, source: m.Source, destination: m.Destination, flags: MS_BIND | MS_REC, data: null,
      recursive: true, readOnly: !m.RW, recursiveReadOnly: !m.RW, requireRecursiveReadOnly: false,
      propagation: MS_PRIVATE, propagationRecursive: true, createSource: false, sourceIsFile: isFile, anonymous: false,
      ...(m.Name ? { volumeName: m.Name } : {}),
    });
  }
  // Parents before children, as at start.
  return out.sort((a, b) => depth(a.destination) - depth(b.destination));
}

function depth(path: string): number {
  return path.split('/').filter((p) => p !== '').length;
}
