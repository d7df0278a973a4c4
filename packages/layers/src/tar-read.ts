import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { InvalidArchiveError, LayerStoreError } from './errors.js';

export type Compression = 'none' | 'gzip';

/** Sniffs the first bytes: gzip or plain tar. zstd is refused by name. */
export function sniffCompression(file: string): Compression {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const n = readSync(fd, buf, 0, 4, 0);
    if (n >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (n === 4 && buf.readUInt32LE(0) === 0xfd2fb528) {
      throw new InvalidArchiveError(`${file} is zstd-compressed, which berth does not read yet; recompress with gzip`);
    }
    return 'none';
  } finally {
    closeSync(fd);
  }
}

export interface ReadTarOptions {
  /** Called with bytes read from the file (compressed bytes for gzip). */
  onBytes?: (done: number) => void;
  what: string;
}

export interface ReadTarResult {
  /** sha256 of the uncompressed tar stream: a layer's diffID. */
  uncompressedDigest: string;
}

function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      fn(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * Reads a tar file (gzip or not) entry by entry with tar-stream, hashing the
 * uncompressed bytes on the way. Entries are handled one at a time, in order;
 * any error (ours or a corrupt/truncated archive) rejects, naming `what`.
 */
export async function readTarFile(
  file: string,
  onEntry: (header: tar.Headers, body: AsyncIterable<Buffer>) => Promise<void>,
  opts: ReadTarOptions,
): Promise<ReadTarResult> {
  const compression = sniffCompression(file);
  const hash = createHash('sha256');
  let done = 0;
  const extract = tar.extract();
  const stages: NodeJS.ReadWriteStream[] = [
    tap((c) => {
      done += c.length;
      opts.onBytes?.(done);
    }),
  ];
  if (compression === 'gzip') stages.push(createGunzip());
  stages.push(tap((c) => hash.update(c)));
  const piped = pipeline([createReadStream(file), ...stages, extract as unknown as NodeJS.WritableStream]);
  let failure: unknown;
  let lastComplete = true;
  try {
    for await (const entry of extract) {
      let received = 0;
      const expected = entry.header.size ?? 0;
      lastComplete = expected === 0;
      const counted = async function* (): AsyncGenerator<Buffer> {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          received += chunk.length;
          lastComplete = received >= expected;
          yield chunk;
        }
      };
      await onEntry(entry.header, counted());
      // Drain whatever the handler left so the parser can move on.
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        received += chunk.length;
        lastComplete = received >= expected;
      }
    }
  } catch (error) {
    failure = error;
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
  }
  try {
    await piped;
  } catch (error) {
    failure ??= error;
  }
  // umoci 0.4 writes `insert` layers that stop right after the last file's
  // data, without padding or end-of-archive blocks. Every byte of content
  // is there (and image layers are checked against their diffID), so that
  // one shape of "truncation" is accepted; a cut inside an entry is not.
  if (failure instanceof Error && failure.message === 'Unexpected end of data' && lastComplete) failure = undefined;
  if (failure !== undefined) {
    if (failure instanceof LayerStoreError) throw failure;
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new InvalidArchiveError(`${opts.what} is corrupt or truncated (${message})`, { cause: failure });
  }
  return { uncompressedDigest: `sha256:${hash.digest('hex')}` };
}
