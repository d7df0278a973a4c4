import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { removeTrashBatch } from './fs-safe.js';
import { tempIsStale } from './layout.js';

/** A trash batch the background deletion could not empty (it stays; the next open tries again and reports it). */
export interface TrashFailure {
  dir: string;
  message: string;
}

/** What the worker answers for each batch. */
interface Emptied {
  dir: string;
  error?: string;
}

/**
 * Batches this process has handed to a worker and not yet seen emptied: a
 * store reopened in the same process must not take them for a crash's.
 */
const inFlight = new Set<string>();

/** True when a batch belongs to nobody alive: its process is gone, or it is this process's and no store of it is emptying it. */
export function trashBatchIsStale(batchName: string, batchPath: string): boolean {
  if (Number(batchName.split('-')[0]) === process.pid) return !inFlight.has(batchPath);
  return tempIsStale(batchName, '');
}

/**
 * The compiled worker next to this module; from the TypeScript sources (the
 * unit tests run them) the built one in `dist/`. Undefined when neither is
 * there: deletion then runs on this thread, after the request.
 */
function workerFile(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return [path.join(here, 'trash-worker.js'), path.join(here, '..', 'dist', 'trash-worker.js')].find((f) => existsSync(f));
}

/** How long an idle worker is kept for the next removal: starting one costs more than emptying a small batch. */
const IDLE_MS = 2000;

/**
 * Deletes trash batches off the request, on a worker thread, one batch at a
 * time, never following a symlink or crossing a mount (`removeTree`). The
 * worker never keeps the process alive; what a process leaves (it exited or
 * crashed) is emptied at the next open.
 */
export class TrashEmptier {
  #worker: Worker | undefined;
  readonly #queue: string[] = [];
  #busy: string | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  /** Batches that could not be emptied since the store opened. */
  readonly failures: TrashFailure[] = [];

  /** Queue a batch (already committed away from the metadata) for deletion. */
  schedule(batch: string): void {
    inFlight.add(batch);
    this.#queue.push(batch);
    this.#next();
  }

  /** Resolves once every scheduled batch is deleted or has failed. */
  settled(): Promise<readonly TrashFailure[]> {
    if (this.#busy === undefined && this.#queue.length === 0) return Promise.resolve(this.failures);
    return new Promise((resolve) => this.#waiters.push(() => resolve(this.failures)));
  }

  /** Stop the worker; batches not yet emptied stay for the next open. */
  close(): void {
    clearTimeout(this.#idleTimer);
    for (const b of this.#queue) inFlight.delete(b);
    if (this.#busy !== undefined) inFlight.delete(this.#busy);
    this.#queue.length = 0;
    this.#busy = undefined;
    void this.#worker?.terminate();
    this.#worker = undefined;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #done(m: Emptied): void {
    if (m.dir !== this.#busy) return;
    inFlight.delete(m.dir);
    if (m.error !== undefined) this.failures.push({ dir: m.dir, message: m.error });
    this.#busy = undefined;
    this.#next();
  }

  #next(): void {
    if (this.#busy !== undefined) return;
    const batch = this.#queue.shift();
    if (batch === undefined) {
      this.#wake();
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(() => this.#stopIdle(), IDLE_MS).unref();
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#busy = batch;
    const worker = this.#start();
    if (worker) {
      worker.postMessage(batch);
      return;
    }
    setImmediate(() => {
      try {
        removeTrashBatch(batch);
        this.#done({ dir: batch });
      } catch (error) {
        this.#done({ dir: batch, error: (error as Error).message });
      }
    });
  }

  #start(): Worker | undefined {
    if (this.#worker) return this.#worker;
    const file = workerFile();
    if (file === undefined) return undefined;
    // execArgv: [] — the parent's flags (`-e`, loaders) mean nothing to the worker file.
    const w = new Worker(file, { execArgv: [] });
    w.unref();
    w.on('message', (m: Emptied) => this.#done(m));
    const lost = (why: string): void => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      if (this.#busy !== undefined) this.#done({ dir: this.#busy, error: why });
    };
    w.on('error', (e) => lost(e.message));
    w.on('exit', (code) => lost(`the trash worker exited (code ${code})`));
    this.#worker = w;
    return w;
  }

  #stopIdle(): void {
    if (this.#busy !== undefined || this.#queue.length > 0) return;
    const w = this.#worker;
    this.#worker = undefined;
    void w?.terminate();
  }
}
