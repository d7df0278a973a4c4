/**
 * Directories taken off the caller's path: renamed out of sight at once (one
 * rename within the same parent, so the name is free again), then deleted,
 * at once or in the background. A process killed meanwhile leaves `.del-*`
 * entries, which the next start removes (the layer store's `reconcile`, or
 * `sweep` for other parents); `idle` waits for the deletions in flight. The
 * layer store uses one for its layers and containers, the supervisor one
 * for its own per-container directories.
 */
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomSuffix } from './refs.js';

export const TRASH_PREFIX = '.del-';

export class Trash {
  private readonly pending = new Set<Promise<void>>();

  /** Takes `dir` out of sight now and deletes it: in the background unless `now`. A missing `dir` is nothing to do. */
  discard(dir: string, opts: { now?: boolean } = {}): void {
    const trash = join(dirname(dir), `${TRASH_PREFIX}${randomSuffix()}`);
    try {
      renameSync(dir, trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (opts.now === true) {
      rmSync(trash, { recursive: true, force: true });
      return;
    }
    // A failure leaves the `.del-*` entry to the next start.
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
    for (const name of names) if (name.startsWith(TRASH_PREFIX)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}
