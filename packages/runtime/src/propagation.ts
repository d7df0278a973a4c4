import { parseMountinfo } from '@berth/syscall';
import { BindPropagationError } from './errors.js';
import type { Propagation } from './spec/index.js';

interface MountEntry {
  mountPoint: string;
  shared: boolean;
  slave: boolean;
}

/** The mounts of a /proc/PID/mountinfo text, with their propagation. */
export function parseMountPropagation(mountinfo: string): MountEntry[] {
  return parseMountinfo(mountinfo).map((m) => ({
    mountPoint: m.mountPoint,
    shared: m.optional.some((f) => f.startsWith('shared:')),
    slave: m.optional.some((f) => f.startsWith('master:')),
  }));
}

/**
 * Docker's rule for bind propagation: `shared`/`rshared` need the source to
 * sit on a shared mount, `slave`/`rslave` on a shared or slave one, or the
 * mode could not do anything. Checks against the caller's mount table
 * (the supervisor's, i.e. the host's); `source` must be a real path.
 */
export function checkBindPropagation(source: string, propagation: Propagation, mountinfo: string): void {
  const wantsShared = propagation === 'shared' || propagation === 'rshared';
  const wantsSlave = propagation === 'slave' || propagation === 'rslave';
  if (!wantsShared && !wantsSlave) return;
  let best: MountEntry | undefined;
  for (const entry of parseMountPropagation(mountinfo)) {
    const under = entry.mountPoint === '/' || source === entry.mountPoint || source.startsWith(`${entry.mountPoint}/`);
    // The last match of the longest mount point is the one on top.
    if (under && (!best || entry.mountPoint.length >= best.mountPoint.length)) best = entry;
  }
  if (!best) return;
  if (wantsShared && !best.shared) {
    throw new BindPropagationError(`path ${source} is mounted on ${best.mountPoint} but it is not a shared mount`, source);
  }
  if (wantsSlave && !best.shared && !best.slave) {
    throw new BindPropagationError(`path ${source} is mounted on ${best.mountPoint} but it is not a shared or slave mount`, source);
  }
}
