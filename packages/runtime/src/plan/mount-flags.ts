import { MOUNT_OPTION_FLAGS, MOUNT_PROPAGATION, MS_PRIVATE, mountWord } from '@berth/syscall';
import type { Propagation } from '../spec/types.js';

/** Words that make no sense for a fresh filesystem: dropped, not passed on as data. */
const IGNORED = new Set(['bind', 'rbind', 'remount', 'defaults']);

export function propagationFlag(p: Propagation): { flag: number; recursive: boolean } {
  return mountWord(MOUNT_PROPAGATION, p) ?? { flag: MS_PRIVATE, recursive: true };
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
    if (IGNORED.has(option)) continue;
    const f = mountWord(MOUNT_OPTION_FLAGS, option);
    const p = mountWord(MOUNT_PROPAGATION, option);
    if (f !== undefined) flags = f.clear ? flags & ~f.flag : flags | f.flag;
    else if (p !== undefined) propagation = p;
    else data.push(option);
  }
  return { flags, data: data.join(','), propagation };
}
