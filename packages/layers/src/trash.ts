/**
 * Directories taken off the caller's path: renamed out of sight at once (one
 * rename within the same parent, so the name is free again), then deleted,
 * at once or in the background. A process killed meanwhile leaves `.del-*`
 * entries, which the next start removes (the layer store's `reconcile`, or
 * `sweep` for other parents); `idle` waits for the deletions in flight. The
 * layer store uses one for its layers and containers, the supervisor one
 * for its own per-container directories. Background deletions run on one
 * worker thread per process (see `DeletionThread`).
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { randomSuffix } from './refs.js';

export const TRASH_PREFIX = '.del-';

/** One directory for the trash's thread to delete, and its answer. */
export interface TrashJob { id: number; dir: string }
export interface TrashJobDone { id: number; error?: string }

/** How long the thread waits idle for the next deletion before it exits. */
const THREAD_IDLE_MS = 2000;

/**
 * The process's one deletion thread, shared by every `Trash`: started on the
 * first deletion, held (ref'd) while deletions are pending, ended after
 * `THREAD_IDLE_MS` without one, so an idle process keeps no isolate for it.
 * Where the compiled worker is not beside this module (the unit tests run
 * the TypeScript sources) deletion falls back to `fs.promises.rm`.
 */
class DeletionThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly file = ((): string | undefined => {
    const beside = join(dirname(fileURLToPath(import.meta.url)), 'trash-worker.js');
    return existsSync(beside) ? beside : undefined;
  })();
  /** Threads started since the process began (tests). */
  started = 0;

  delete(dir: string): Promise<void> {
    const worker = this.start();
    if (worker === undefined) return rm(dir, { recursive: true, force: true });
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    // A failure leaves the `.del-*` entry to the next start, as before.
    const done = new Promise<void>((resolve) => this.pending.set(id, resolve));
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ id, dir } satisfies TrashJob);
    return done;
  }

  private start(): Worker | undefined {
    if (this.worker !== undefined || this.file === undefined) return this.worker;
    // execArgv: [] — the parent's flags (`-e`, loaders) mean nothing to the worker file.
    const w = new Worker(this.file, { execArgv: [] });
    this.started++;
    w.unref();
    w.on('message', ({ id }: TrashJobDone) => this.settle(id));
    const lost = (): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id);
    };
    w.on('error', lost);
    w.on('exit', lost);
    this.worker = w;
    return w;
  }

  private settle(id: number): void {
    const resolve = this.pending.get(id);
    if (resolve === undefined) return;
    this.pending.delete(id);
    resolve();
    if (this.pending.size > 0) return;
    const w = this.worker;
    w?.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.pending.size > 0 || this.worker !== w) return;
      this.worker = undefined;
      void w?.terminate();
    }, THREAD_IDLE_MS).unref();
  }
}

const thread = new DeletionThread();

/** Deletion threads started since the process began (tests: deletions ran off the calling thread). */
export function trashThreadsStarted(): number {
  return thread.started;
}

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
    const deletion: Promise<void> = thread.delete(trash)
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
