/**
 * Directories a request removes, taken off its path: renamed out of sight at
 * once (one rename within the same parent, so the name is free again), then
 * deleted in the background. A supervisor killed meanwhile leaves `.del-*`
 * entries, which `sweep` removes at the next start; `idle` waits for the
 * deletions in flight (the supervisor's close).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const PREFIX = '.del-';

export class Trash {
  private readonly pending = new Set<Promise<void>>();

  /** Takes `dir` out of sight now and deletes it later; a missing `dir` is nothing to do. */
  discard(dir: string): void {
    const trash = join(dirname(dir), `${PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      renameSync(dir, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    // A failure leaves the `.del-*` entry to the next start's sweep.
    const deletion: Promise<void> = rm(trash, { recursive: true, force: true })
      .catch(() => undefined)
      .finally(() => this.pending.delete(deletion));
    this.pending.add(deletion);
  }

  /** Resolves when every directory discarded so far is gone. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  /** Deletes what an earlier process's discards left under `parent` (at start, before any request). */
  static sweep(parent: string): void {
    let names: string[];
    try {
      names = readdirSync(parent);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith(PREFIX)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}
