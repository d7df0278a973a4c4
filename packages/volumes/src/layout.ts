import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

/** Prefix of every temporary directory; volume names can never start with '.'. */
export const TEMP_PREFIX = '.tmp-';
/**
 * Directory inside the volumes directory where removed volumes wait for
 * deletion: `.trash/<pid>-<random>/<volume name>`, one batch per
 * transaction. Same filesystem, so moving a volume there is one rename.
 */
export const TRASH_DIR = '.trash';
/** Prefix of import staging directories inside a volume directory. */
export const IMPORT_PREFIX = '.import-';

/** `.tmp-<pid>-<random>`: the pid lets reconcile leave a live process's work alone. */
export function tempName(prefix = TEMP_PREFIX): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** True when the temp was made by a process that is gone (or cannot be told apart). */
export function tempIsStale(name: string, prefix: string): boolean {
  const pid = Number(name.slice(prefix.length).split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  // An async import of this very process may be in flight.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class Layout {
  constructor(readonly volumesDir: string) {}
  volumeDir(name: string): string {
    return path.join(this.volumesDir, name);
  }
  /** String concatenation, not path.join: list() calls it 10,000 times (names hold no '/'). */
  dataDir(name: string): string {
    return `${this.volumesDir}/${name}/_data`;
  }
  temp(prefix = TEMP_PREFIX): string {
    return path.join(this.volumesDir, tempName(prefix));
  }
  get trashDir(): string {
    return path.join(this.volumesDir, TRASH_DIR);
  }
  /** A fresh batch name under the trash (not made). */
  trashBatch(): string {
    return path.join(this.trashDir, tempName(''));
  }
  get dbFile(): string {
    return path.join(this.volumesDir, 'metadata.db');
  }
}
