/** Copying a container's multiplexed output to the terminal. */
import type { Readable, Writable } from 'node:stream';
import { ProtocolError } from './errors.js';
import { Demuxer, STREAM_STDERR, STREAM_SYSTEM } from './stream.js';

/**
 * Demuxes `source` into `out` (stdout frames, and stdin-typed frames as
 * docker does) and `err` (stderr and system frames) until it ends. With
 * `raw` (a TTY container) the bytes go to `out` unframed.
 */
export function pumpStream(source: Readable, out: Writable, err: Writable, raw = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const demuxer = new Demuxer((frame) => {
      (frame.stream === STREAM_STDERR || frame.stream === STREAM_SYSTEM ? err : out).write(frame.payload);
    });
    source.on('data', (chunk: Buffer) => {
      if (raw) {
        out.write(chunk);
        return;
      }
      try {
        demuxer.push(chunk);
      } catch (error) {
        source.destroy();
        reject(new ProtocolError(`${(error as Error).message}; the daemon's output stream is corrupt`));
      }
    });
    source.on('end', () => resolve());
    source.on('close', () => resolve());
    source.on('error', (error) => reject(new ProtocolError(`the output stream broke: ${error.message}`)));
  });
}
