import { MOUNT_OPTION_FLAGS, MOUNT_PROPAGATION, MS_REC, mountWord } from '@berth/syscall';
import { InvalidVolumeOptionError } from './errors.js';

/** The local driver's options (moby `daemon/volume/local`). */
const VALID_OPTIONS = ['type', 'o', 'device', 'size'] as const;
/** Which options each option needs, checked in this order so messages are deterministic. */
const MANDATORY: readonly [string, readonly string[]][] = [
  ['type', ['device']],
  ['device', ['type']],
  ['o', ['device', 'type']],
];

/** Throws Docker's messages: `invalid option: "K"`, `missing required option: "type"`. */
export function validateDriverOptions(options: Readonly<Record<string, string>>): void {
  const keys = Object.keys(options);
  if (keys.length === 0) return;
  for (const key of keys) {
    if (!(VALID_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidVolumeOptionError(`invalid option: ${JSON.stringify(key)}`);
    }
  }
  if ('size' in options) {
    // moby accepts size only on backing filesystems with project quotas (xfs/ext4 prjquota).
    throw new InvalidVolumeOptionError('quota size requested but no quota support');
  }
  for (const [key, needs] of MANDATORY) {
    if (!(key in options)) continue;
    for (const need of needs) {
      if (!(need in options)) throw new InvalidVolumeOptionError(`missing required option: ${JSON.stringify(need)}`);
    }
  }
}

/** True when the volume is backed by its own mount (made on first use). */
export function hasMountOptions(options: Readonly<Record<string, string>>): boolean {
  return options['type'] !== undefined || options['device'] !== undefined;
}

/** One mount(2) call, as data, for the first acquire of a driver-option volume. */
export interface VolumeMountPlan {
  source: string;
  fstype: string;
  flags: number;
  data: string | null;
  /** Propagation flags go in a second mount(2) call, as moby/sys/mount does. */
  propagation: number;
}

/**
 * Split `o` the way moby/sys/mount's parseOptions does: known words become
 * flags, everything else (size=1m, mode=0755, uid=..) is filesystem data.
 */
export function parseMountOptions(o: string): { flags: number; data: string | null; propagation: number } {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const word of o.split(',')) {
    if (word === '') continue;
    const known = mountWord(MOUNT_OPTION_FLAGS, word);
    const prop = mountWord(MOUNT_PROPAGATION, word);
    if (known) flags = known.clear ? flags & ~known.flag : flags | known.flag;
    else if (prop !== undefined) propagation |= prop.flag | (prop.recursive ? MS_REC : 0);
    else data.push(word);
  }
  return { flags, data: data.length > 0 ? data.join(',') : null, propagation };
}

export function mountPlanFor(options: Readonly<Record<string, string>>): VolumeMountPlan | undefined {
  if (!hasMountOptions(options)) return undefined;
  const parsed = parseMountOptions(options['o'] ?? '');
  return { source: options['device'] ?? '', fstype: options['type'] ?? '', ...parsed };
}
