/**
 * The trash emptier's thread: deletes each batch it is sent (`removeTree`:
 * no symlink followed, no mount crossed) and answers with the batch and, if
 * it failed, why.
 */
import { parentPort } from 'node:worker_threads';
import { removeTrashBatch } from './fs-safe.js';

const port = parentPort;
if (port === null) throw new Error('trash-worker.js runs only as a worker thread');
port.on('message', (dir: string) => {
  try {
    removeTrashBatch(dir);
    port.postMessage({ dir });
  } catch (error) {
    port.postMessage({ dir, error: (error as Error).message });
  }
});
