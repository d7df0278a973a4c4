/** The progress bar shown while an archive streams to the daemon (stderr, only on a terminal). */
import { Transform } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { humanSize } from './format/size.js';

export interface CountingStream {
  stream: Readable;
  /** Bytes that passed so far. */
  readonly sent: () => number;
  stop(): void;
}

/**
 * Wraps `source` so every byte sent is counted and shown: `bytes sent of
 * file size` when the size is known, bytes alone for stdin.
 */
export async function withProgress(source: Readable, total: number | undefined, err: Writable, label: string): Promise<CountingStream> {
  // Loaded here, not at start-up: every other command would pay for it.
  const { Presets, SingleBar } = await import('cli-progress');
  const known = total !== undefined && total > 0;
  const bar = new SingleBar(
    {
      format: known ? `${label} [{bar}] {percentage}% | {sent} / {size}` : `${label} {sent}`,
      stream: err as unknown as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    Presets.shades_classic,
  );
  let sent = 0;
  bar.start(known ? total : 1, 0, { sent: humanSize(0, 3), size: humanSize(total ?? 0, 3) });
  // A transform, not a 'data' listener: nothing may flow before the request is piped.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      bar.update(known ? sent : 0, { sent: humanSize(sent, 3) });
      done(null, chunk);
    },
  });
  source.on('error', (error) => counter.destroy(error));
  source.pipe(counter);
  return { stream: counter, sent: () => sent, stop: () => bar.stop() };
}
