import { Worker } from 'node:worker_threads';
import { ArchiveContents, type ArchiveFile, type Ingested } from '../archive.js';
import { LayerStoreError, type LayerStoreErrorCode } from '../errors.js';
import type { UnpackedLayer } from '../layer-apply.js';
import type { FromWorker, SerializedIngest, WorkerTask } from './protocol.js';

/** Chunks sent and not yet taken by the worker: bounds the memory a fast source can fill. */
const MAX_IN_FLIGHT = 8;

/** An error from the worker, with its code kept (the API maps codes to statuses). */
class WorkerTaskError extends LayerStoreError {
  constructor(name: string, code: LayerStoreErrorCode, message: string) {
    super(code, message);
    Object.defineProperty(this, 'name', { value: name });
  }
}

/** Idle workers kept for the next task: starting one (loading koffi and the modules) costs more than a small layer. */
const idle: Worker[] = [];
const KEEP_IDLE = 3;
/**
 * How long an idle worker waits for its next task before it exits. A worker
 * holds about 8 MB (its isolate's heap, its malloc arena) that an idle
 * supervisor would otherwise keep for good after one pull; loads and pulls
 * within a minute of each other (compose pulling its images) reuse them, and
 * after a longer pause the next one starts a worker again.
 */
let idleExitMs = 60_000;
const idleTimers = new Map<Worker, NodeJS.Timeout>();
let started = 0;

/** Tests: shorten the idle wait; returns the previous value. */
export function setIdleWorkerExitMs(ms: number): number {
  const previous = idleExitMs;
  idleExitMs = ms;
  return previous;
}

/** Workers started since the process began, and how many wait idle now (tests and the bench). */
export function ingestWorkerCounts(): { started: number; idle: number } {
  return { started, idle: idle.length };
}

function takeWorker(): Worker {
  const w = idle.pop();
  if (w) {
    clearTimeout(idleTimers.get(w));
    idleTimers.delete(w);
    w.ref();
    return w;
  }
  // Started on first use, not when a store opens: an idle supervisor keeps no
  // ingest worker. The start (100–300 ms: a fresh isolate, koffi, the modules)
  // overlaps the first chunks, which wait in the worker's queue meanwhile.
  // execArgv: [] — the parent's flags (`--input-type`, `-e`) mean nothing to a worker file and some refuse it.
  started += 1;
  return new Worker(new URL('./ingest-worker.js', import.meta.url), { execArgv: [] });
}

function park(w: Worker): void {
  // An idle worker must not keep the process alive.
  w.unref();
  w.on('error', () => undefined);
  w.on('exit', () => {
    clearTimeout(idleTimers.get(w));
    idleTimers.delete(w);
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
  });
  idle.push(w);
  const timer = setTimeout(() => {
    idleTimers.delete(w);
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
    void w.terminate();
  }, idleExitMs);
  timer.unref();
  idleTimers.set(w, timer);
}

function releaseWorker(w: Worker, healthy: boolean): void {
  w.removeAllListeners('message');
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  if (!healthy || idle.length >= KEEP_IDLE) {
    void w.terminate();
    return;
  }
  park(w);
}

/**
 * Runs a task on a worker thread, feeding it `source` chunk by chunk with
 * flow control. Resolves with the worker's result; rejects with its error
 * (its code kept). Layer directories the worker made are pushed to `made`
 * either way, so the caller removes what it does not commit.
 */
export async function offload(
  task: WorkerTask, source: AsyncIterable<Buffer> | undefined, made: string[], onBytes?: (done: number) => void,
): Promise<UnpackedLayer | SerializedIngest> {
  const worker = takeWorker();
  let healthy = true;
  worker.postMessage({ type: 'task', task });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let settled = false;
  const result = new Promise<UnpackedLayer | SerializedIngest>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ack') {
        inFlight--;
        wake?.();
        return;
      }
      if (m.type === 'progress') {
        onBytes?.(m.done);
        return;
      }
      settled = true;
      wake?.();
      if (m.type === 'done') {
        if ('made' in m.result) made.push(...m.result.made);
        resolve(m.result);
      } else {
        made.push(...(m.made ?? []));
        reject(new WorkerTaskError(m.error.name, m.error.code ?? 'WORKER_FAILED', m.error.message));
      }
    });
    worker.on('error', (error) => { healthy = false; settled = true; wake?.(); reject(error); });
    worker.on('exit', (code) => {
      healthy = false;
      if (!settled) { settled = true; wake?.(); reject(new LayerStoreError('WORKER_FAILED', `failed to unpack: the worker thread exited with ${code}`)); }
    });
  });
  result.catch(() => undefined);
  let sent = 0;
  try {
    // A task that reads its own file gets no chunks and no end marker.
    if (source === undefined) return await result;
    for await (const chunk of source) {
      if (settled) break;
      const size = chunk.length;
      // A chunk that owns its whole ArrayBuffer (file reads) moves without a copy; slices of a pool are copied.
      const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
      if (own) worker.postMessage({ type: 'chunk', chunk }, [chunk.buffer as ArrayBuffer]);
      else worker.postMessage({ type: 'chunk', chunk });
      sent += size;
      onBytes?.(sent);
      inFlight++;
      while (inFlight > MAX_IN_FLIGHT && !settled) await new Promise<void>((r) => { wake = r; });
    }
    // The end marker also closes a task that failed early, so the worker can take the next one.
    worker.postMessage({ type: 'end' });
    return await result;
  } catch (error) {
    if (!settled) healthy = false; // the source failed: the worker is mid-task
    throw error;
  } finally {
    if (!settled) healthy = false;
    releaseWorker(worker, healthy);
  }
}

/** The archive as `ingest` returns it, rebuilt from what crossed the thread boundary. */
export function deserializeIngest(s: SerializedIngest): Ingested {
  if (s.format === 'rootfs' && s.staged) return { format: 'rootfs', staged: s.staged };
  const contents = new ArchiveContents();
  for (const [k, v] of s.links ?? []) contents.links.set(k, v);
  for (const f of s.files ?? []) {
    const file: ArchiveFile = f.kind === 'layer'
      ? { kind: 'layer', name: f.name, staged: f.staged, taken: false }
      : { kind: 'data', name: f.name, digest: f.digest, size: f.size, ...(f.bytes ? { bytes: Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength) } : {}), ...(f.path ? { path: f.path } : {}) };
    contents.files.set(f.name, file);
  }
  return { format: 'archive', contents };
}
