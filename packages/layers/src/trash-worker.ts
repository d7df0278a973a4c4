/**
 * The trash's thread: deletes each directory it is sent (`rm -rf`: symlinks
 * are removed, never followed) and answers with its number and, if it
 * failed, why. Off the main thread, so a removal's dozens of file system
 * calls cost the caller one message.
 */
import { rmSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { TrashJob, TrashJobDone } from './trash.js';

const port = parentPort;
if (port === null) throw new Error('trash-worker.js runs only as a worker thread');
port.on('message', ({ id, dir }: TrashJob) => {
  const done: TrashJobDone = { id };
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    done.error = (error as Error).message;
  }
  port.postMessage(done);
});
