import { LayerStoreError } from '../errors.js';
/**
 * The worker thread that unpacks layers and archives for a supervisor, so
 * its main thread never blocks on the synchronous file writes of an import
 * or a pull. It receives the bytes as they arrive (acknowledging each, for
 * flow control) and runs the same code the main thread would.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { LinuxSyscalls } from '@berth/syscall';
import { ingest } from '../archive.js';
import { unpackLayer } from '../layer-apply.js';
import { fileChunks } from '../tar-read.js';
import { randomSuffix } from '../refs.js';
import type { FromWorker, SerializedIngest, ToWorker, WorkerTask } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('ingest-worker runs only as a worker thread');
const queue: ToWorker[] = [];
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  queue.push(m);
  wake?.();
});
const send = (m: FromWorker): void => port.postMessage(m);

async function next(): Promise<ToWorker> {
  while (queue.length === 0) await new Promise<void>((r) => { wake = r; });
  return queue.shift()!;
}

/** The current task's bytes, up to its `end`. */
async function* chunks(): AsyncGenerator<Buffer> {
  for (;;) {
    const m = await next();
    if (m.type === 'end') return;
    if (m.type !== 'chunk') throw new Error(`ingest-worker: unexpected ${m.type} inside a task`);
    send({ type: 'ack' });
    yield Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
  }
}

const syscalls = new LinuxSyscalls();

async function run(task: WorkerTask): Promise<void> {
  const made: string[] = [];
  try {
    if (task.kind === 'layer') {
      const fd = task.keepBlobAt === undefined ? undefined : openSync(task.keepBlobAt, 'wx', 0o600);
      try {
        const result = await unpackLayer(chunks(), task.dest, {
          syscalls, what: task.what,
          ...(task.expectDigest === undefined ? {} : { expectDigest: task.expectDigest }),
          ...(fd === undefined ? {} : {
            onRaw: (chunk: Buffer) => {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
            },
          }),
        });
        send({ type: 'done', result });
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    } else {
      // A file is read here, into this thread's own reused buffers: no chunk crosses the thread boundary.
      const file = task.file === undefined ? undefined : fileChunks(task.file, { blocking: true });
      const out = await ingest(file ?? chunks(), {
        mode: task.mode, syscalls, workDir: task.workDir, made,
        ...(file ? { release: (chunk: Buffer) => file.recycle(chunk) } : {}),
        ...(task.progress === true ? { onBytes: (done: number) => send({ type: 'progress', done }) } : {}),
        newLayerTmp: () => join(task.layersDir, `.tmp-${randomSuffix()}`),
      });
      const result: SerializedIngest = out.format === 'rootfs'
        ? { format: 'rootfs', staged: out.staged, made }
        : {
            format: 'archive', made, links: [...out.contents.links],
            files: [...out.contents.files.values()].map((f) => (f.kind === 'layer' ? { kind: 'layer', name: f.name, staged: f.staged } : f)),
          };
      send({ type: 'done', result });
    }
  } catch (error) {
    // Only the store's own codes cross back; anything else (an errno) is the worker's failure.
    const e = error as { name?: string; message?: string };
    const code = error instanceof LayerStoreError ? error.code : undefined;
    send({ type: 'error', error: { name: e.name ?? 'Error', ...(code === undefined ? {} : { code }), message: e.message ?? String(error) }, made });
  }
  // Whatever the task left unread (it failed early) is dropped up to its end.
  for (let m = queue[0]; m !== undefined && m.type !== 'task'; m = queue[0]) queue.shift();
}

// One task at a time, for as long as the pool keeps this worker.
for (;;) {
  const m = await next();
  if (m.type === 'task') await run(m.task);
}
