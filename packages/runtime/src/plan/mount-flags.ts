import {
  MOUNT_ATTR_RDONLY, MS_BIND, MS_DIRSYNC, MS_MANDLOCK, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC,
  MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SLAVE, MS_STRICTATIME,
  MS_SYNCHRONOUS, MS_UNBINDABLE,
} from '@berth/syscall';
import type { Propagation } from '../spec/types.js';
import type { PlannedMount } from './types.js';

/** Mount options that are flags: [bit, clears it]. Everything else is data. */
const OPTION_FLAGS: Record<string, [number, boolean]> = {
  ro: [MS_RDONLY, false], rw: [MS_RDONLY, true],
  nosuid: [MS_NOSUID, false], suid: [MS_NOSUID, true],
  nodev: [MS_NODEV, false], dev: [MS_NODEV, true],
  noexec: [MS_NOEXEC, false], exec: [MS_NOEXEC, true],
  sync: [MS_SYNCHRONOUS, false], async: [MS_SYNCHRONOUS, true],
  dirsync: [MS_DIRSYNC, false],
  mand: [MS_MANDLOCK, false], nomand: [MS_MANDLOCK, true],
  noatime: [MS_NOATIME, false], atime: [MS_NOATIME, true],
  nodiratime: [MS_NODIRATIME, false], diratime: [MS_NODIRATIME, true],
  relatime: [MS_RELATIME, false], norelatime: [MS_RELATIME, true],
  strictatime: [MS_STRICTATIME, false], nostrictatime: [MS_STRICTATIME, true],
};

const PROPAGATION: Record<string, { flag: number; recursive: boolean }> = {
  private: { flag: MS_PRIVATE, recursive: false }, rprivate: { flag: MS_PRIVATE, recursive: true },
  shared: { flag: MS_SHARED, recursive: false }, rshared: { flag: MS_SHARED, recursive: true },
  slave: { flag: MS_SLAVE, recursive: false }, rslave: { flag: MS_SLAVE, recursive: true },
  unbindable: { flag: MS_UNBINDABLE, recursive: false }, runbindable: { flag: MS_UNBINDABLE, recursive: true },
};

export function propagationFlag(p: Propagation): { flag: number; recursive: boolean } {
  return PROPAGATION[p] ?? { flag: MS_PRIVATE, recursive: true };
}

/**
 * Split merged mount options (`noexec,nosuid,size=64k,rprivate`) into
 * mount(2) flags, the data string and the propagation. Options that make no
 * sense for a fresh filesystem (`bind`, `rbind`, `remount`, `defaults`) are dropped.
 */
export function splitMountOptions(options: readonly string[]): {
  flags: number; data: string; propagation: { flag: number; recursive: boolean };
} {
  let flags = 0;
  const data: string[] = [];
  let propagation = { flag: MS_PRIVATE, recursive: true };
  for (const option of options) {
    const f = Object.hasOwn(OPTION_FLAGS, option) ? OPTION_FLAGS[option] : undefined;
    const p = Object.hasOwn(PROPAGATION, option) ? PROPAGATION[option] : undefined;
    if (f !== undefined) flags = f[1] ? flags & ~f[0] : flags | f[0];
    else if (p !== undefined) propagation = p;
    else if (!['bind', 'rbind', 'remount', 'defaults'].includes(option)) data.push(option);
  }
  return { flags, data: data.join(','), propagation };
}

/**
 * The mount(2) / mount_setattr(2) steps for one planned mount, in order,
 * so the executor applies them without deciding anything:
 * 1. `mount(source, dest, fstype, flags, data)` (or an open_tree clone of the source with `recursive`);
 * 2. read-only: `mount_setattr(dest, AT_RECURSIVE?, {attrSet: MOUNT_ATTR_RDONLY})` when `readOnlyAttr`
 *    is set, else the `remountFlags` remount of the top mount;
 * 3. `mount(null, dest, null, propagationFlags, null)`.
 */
export interface MountSteps {
  source: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  /** Clone the whole tree (MS_REC / OPEN_TREE_CLONE with AT_RECURSIVE). */
  recursive: boolean;
  /** For a read-only bind: attributes to set through mount_setattr. */
  readOnlyAttr?: { attrSet: number; recursive: boolean };
  /** For a read-only non-recursive bind, the classic remount (a bind ignores MS_RDONLY on the first call). */
  remountFlags?: number;
  /** Flags for the propagation call (MS_PRIVATE etc., with MS_REC for the r-modes). */
  propagationFlags: number;
}

export function mountFlagsFor(m: PlannedMount): MountSteps {
  const propagationFlags = m.propagation | (m.propagationRecursive ? MS_REC : 0);
  if (m.kind === 'tmpfs') {
    // MS_RDONLY is already part of a read-only tmpfs's flags.
    return { source: 'tmpfs', fstype: 'tmpfs', flags: m.flags, data: m.data, recursive: false, propagationFlags };
  }
  const steps: MountSteps = {
    source: m.source, fstype: null, flags: MS_BIND | (m.recursive ? MS_REC : 0), data: null,
    recursive: m.recursive, propagationFlags,
  };
  if (m.readOnly) {
    if (m.recursiveReadOnly) steps.readOnlyAttr = { attrSet: MOUNT_ATTR_RDONLY, recursive: true };
    else steps.remountFlags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  }
  return steps;
}
