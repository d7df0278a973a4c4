// berth's state root is private, as dockerd's is since CVE-2021-41091: the
// root 0710 (no host user other than root's group can traverse it, so no
// one reaches a volume's files or a setuid binary a container left there),
// and `volumes/` 0701 as moby makes it.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StateRootError } from '../errors.js';

export const STATE_ROOT_MODE = 0o710;
export const VOLUMES_DIR_MODE = 0o701;

/** A permission berth changed, to say so in the log. */
export interface ModeCorrection {
  path: string;
  from: number;
  to: number;
}

/**
 * Creates the state root with mode 0710 if it is missing, and corrects the
 * root and an existing `volumes/` when their modes are wider or different.
 * Refuses a root that is a symlink or not a directory, or not owned by
 * root. Returns what it corrected; `describeCorrection` says it in words.
 */
export function ensurePrivateStateRoot(root: string): ModeCorrection[] {
  mkdirSync(root, { recursive: true, mode: STATE_ROOT_MODE });
  const corrections: ModeCorrection[] = [];
  const fix = (path: string, mode: number, mustExist: boolean): void => {
    let st;
    try {
      st = lstatSync(path);
    } catch (err) {
      if (!mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new StateRootError(`failed to check the permissions of ${path}: ${(err as Error).message}`, err);
    }
    if (!st.isDirectory()) throw new StateRootError(`failed to secure the state directory ${path}: it is not a directory (or is a symlink)`);
    if (st.uid !== process.getuid?.()) throw new StateRootError(`failed to secure the state directory ${path}: it is owned by uid ${st.uid}, not by berth's user`);
    const current = st.mode & 0o7777;
    if (current === mode) return;
    try {
      chmodSync(path, mode);
    } catch (err) {
      throw new StateRootError(`failed to set the permissions of ${path} to ${mode.toString(8)}: ${(err as Error).message}`, err);
    }
    corrections.push({ path, from: current, to: mode });
  };
  fix(root, STATE_ROOT_MODE, true);
  fix(join(root, 'volumes'), VOLUMES_DIR_MODE, false);
  return corrections;
}

export function describeCorrection(c: ModeCorrection): string {
  return `berth: ${c.path} had mode ${c.from.toString(8).padStart(4, '0')}; set it to ${c.to.toString(8).padStart(4, '0')} so host users cannot reach container and volume data`;
}
