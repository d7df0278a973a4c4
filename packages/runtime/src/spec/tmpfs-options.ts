import { MountSpecError } from '../errors.js';

// moby/sys/mount's flag table: option name -> [flag bit, clears the flag].
// Options naming the same bit collide (ro/rw, exec/noexec); all propagation
// options collide with each other.
const FLAG_OPTIONS: Record<string, number> = {
  ro: 1, rw: 1, suid: 2, nosuid: 2, dev: 4, nodev: 4, exec: 8, noexec: 8,
  sync: 16, async: 16, remount: 32, mand: 64, nomand: 64, dirsync: 128,
  atime: 1024, noatime: 1024, diratime: 2048, nodiratime: 2048,
  bind: 4096, rbind: 4096 | 16384,
  unbindable: -1, runbindable: -1, private: -1, rprivate: -1, shared: -1, rshared: -1, slave: -1, rslave: -1,
  relatime: 1 << 21, norelatime: 1 << 21, strictatime: 1 << 24, nostrictatime: 1 << 24,
};

/** The `key=value` options tmpfs accepts (moby/sys/mount `validFlags`). */
const DATA_KEYS = new Set(['', 'size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/** Docker's defaults for every tmpfs, before the user's options. */
export const TMPFS_DEFAULT_OPTIONS: readonly string[] = ['noexec', 'nosuid', 'nodev', 'rprivate'];

/**
 * moby/sys/mount `MergeTmpfsOptions`: later options win, one per flag bit,
 * one propagation, one per data key; `defaults` is dropped. Refuses unknown
 * options with Docker's `invalid tmpfs option "K"`.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<number>();
  const seenData = new Set<string>();
  const merged: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i] ?? '';
    if (option === 'defaults') continue;
    const flag = Object.hasOwn(FLAG_OPTIONS, option) ? FLAG_OPTIONS[option] : undefined;
    if (flag !== undefined) {
      if (!seenFlags.has(flag)) {
        merged.unshift(option);
        seenFlags.add(flag);
      }
      continue;
    }
    const eq = option.indexOf('=');
    const key = eq < 0 ? option : option.slice(0, eq);
    if (eq < 0 || !DATA_KEYS.has(key)) {
      throw new MountSpecError('invalid-tmpfs', `invalid tmpfs option ${JSON.stringify(key)}`, option);
    }
    if (!seenData.has(key)) {
      merged.unshift(option);
      seenData.add(key);
    }
  }
  return merged;
}

/** moby's size formatting for `TmpfsOptions.SizeBytes`: the largest of k/m/g that divides evenly. */
export function formatTmpfsSize(bytes: number): string {
  let size = bytes;
  let suffix = '';
  for (const unit of ['k', 'm', 'g']) {
    if (size % 1024 !== 0) break;
    size /= 1024;
    suffix = unit;
  }
  return `${size}${suffix}`;
}

/**
 * The user-level option list of a tmpfs spec, as moby's `ConvertTmpfsOptions`
 * renders it (`ro`, `mode=`, `size=`, then extra options), without Docker's defaults.
 */
export function tmpfsUserOptions(spec: {
  readOnly: boolean;
  tmpfsMode?: number;
  tmpfsSizeBytes?: number;
  tmpfsOptions?: readonly string[];
}): string[] {
  const out: string[] = [];
  if (spec.readOnly) out.push('ro');
  if (spec.tmpfsMode !== undefined && spec.tmpfsMode !== 0) out.push(`mode=${spec.tmpfsMode.toString(8)}`);
  if (spec.tmpfsSizeBytes !== undefined && spec.tmpfsSizeBytes !== 0) out.push(`size=${formatTmpfsSize(spec.tmpfsSizeBytes)}`);
  out.push(...(spec.tmpfsOptions ?? []));
  return out;
}

/** Docker's defaults merged with a spec's options: what the tmpfs is finally mounted with. */
export function effectiveTmpfsOptions(spec: Parameters<typeof tmpfsUserOptions>[0]): string[] {
  return mergeTmpfsOptions([...TMPFS_DEFAULT_OPTIONS, ...tmpfsUserOptions(spec)]);
}
