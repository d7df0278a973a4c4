import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { InvalidArchiveError, LayerStoreError, UnsupportedCompressionError } from './errors.js';

export type Compression = 'none' | 'gzip';

/** Read size for files and the inflate window: tar's 10 KiB blocks cost a system call each; 1 MiB does not. */
export const INGEST_CHUNK = 1 << 20;

/** What the first bytes of a stream say it is: gzip, plain, or zstd (refused by name). */
export function sniffCompression(head: Buffer, what: string): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) throw new UnsupportedCompressionError(what, 'zstd');
  return 'none';
}

/** A POSIX/GNU tar header block: "ustar" at offset 257, or (an empty tar) a zero block. */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  return head.subarray(0, 512).every((b) => b === 0);
}

/**
 * Takes at least `n` bytes (or everything, if the stream is shorter) off an
 * async iterable, and returns them with an iterable of the rest, so a
 * stream can be sniffed without reading it twice.
 */
export async function peek(source: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const taken: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done === true) { ended = true; break; }
    taken.push(r.value);
    have += r.value.length;
  }
  const head = taken.length === 1 ? taken[0]! : Buffer.concat(taken);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  }
  return { head, all: all() };
}

/** A pass-through that feeds every chunk to `fn`. */
export function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({
    highWaterMark: INGEST_CHUNK,
    transform(chunk: Buffer, _enc, cb) {
      fn(chunk);
      cb(null, chunk);
    },
  });
}

export interface DecodedStream {
  /** The uncompressed bytes. */
  stream: Readable;
  compression: Compression;
  /** sha256 of the bytes as they came (the blob digest), once the stream ended. */
  rawDigest(): string;
  /** sha256 of the uncompressed bytes (a layer's diffID); for a plain stream the same hash as rawDigest. */
  uncompressedDigest(): string;
  rawBytes(): number;
  /** With `lazyHash`: hash everything from the first byte on, or nothing. */
  startHashing(): void;
  dropHashing(): void;
  /** After a reader stopped early: reads (and hashes) what is left of the source. */
  drainRest(): Promise<void>;
}

/**
 * A sha256 that can be told late whether it is wanted: until `start` or
 * `drop` it holds the chunks it was given (a few, while the first tar
 * header is parsed), so the bytes are still read once.
 */
export class LazyHash {
  private pending: Buffer[] | undefined = [];
  private hash: Hash | undefined;
  private hex: string | undefined;
  constructor(eager: boolean) {
    if (eager) this.start();
  }
  update(chunk: Buffer): void {
    if (this.hash) this.hash.update(chunk);
    else this.pending?.push(chunk);
  }
  start(): void {
    if (this.hash) return;
    this.hash = createHash('sha256');
    for (const c of this.pending ?? []) this.hash.update(c);
    this.pending = undefined;
  }
  drop(): void {
    this.pending = undefined;
  }
  digest(): string {
    if (!this.hash) throw new Error('failed to read a digest: hashing was dropped');
    return `sha256:${(this.hex ??= this.hash.digest('hex'))}`;
  }
}

export interface DecodeOptions {
  onBytes?: (done: number) => void;
  /** Every chunk as it came (before inflating): a pull keeps the compressed blob for a later push. */
  onRaw?: (chunk: Buffer) => void;
  /** Hash only once `startHashing` is called (an archive whose format is known only at its first entry). */
  lazyHash?: boolean;
}

/**
 * Sniffs a stream (gzip or plain tar; zstd refused) and returns its
 * uncompressed bytes, hashing each byte once: a plain stream's digest is
 * both its blob digest and its diffID; a gzip stream gets a second hash
 * after inflating.
 */
export async function decode(source: AsyncIterable<Buffer>, what: string, opts: DecodeOptions = {}): Promise<DecodedStream> {
  const onBytes = opts.onBytes;
  const raw = new LazyHash(opts.lazyHash !== true);
  let rawCount = 0;
  // The readers below may stop early (a corrupt layer); `return` must not end
  // the source, so `drainRest` can still hash it to the end.
  const it = source[Symbol.asyncIterator]();
  const shielded: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({ next: () => it.next(), return: () => Promise.resolve({ done: true as const, value: undefined }) }),
  };
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of shielded) {
      opts.onRaw?.(chunk);
      raw.update(chunk);
      rawCount += chunk.length;
      onBytes?.(rawCount);
      yield chunk;
    }
  }
  const { head, all } = await peek(counted(), 4);
  const compression = sniffCompression(head, what);
  const rawStream = Readable.from(all, { objectMode: false, highWaterMark: INGEST_CHUNK });
  let inner: LazyHash | undefined;
  let stream: Readable;
  if (compression === 'gzip') {
    inner = new LazyHash(opts.lazyHash !== true);
    const h = inner;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const hashed = tap((c) => h.update(c));
    // Errors surface on the last stream, which the reader awaits.
    stream = hashed;
    // A failure anywhere destroys every stage, the last one included, whose reader then rejects.
    pipeline(rawStream, gunzip, hashed).catch(() => undefined);
  } else {
    stream = rawStream;
  }
  return {
    stream, compression,
    rawBytes: () => rawCount,
    rawDigest: () => raw.digest(),
    uncompressedDigest: () => (inner ?? raw).digest(),
    startHashing: () => { raw.start(); inner?.start(); },
    drainRest: async () => {
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        raw.update(r.value);
        rawCount += r.value.length;
      }
    },
    dropHashing: () => { raw.drop(); inner?.drop(); },
  };
}

/**
 * Reads an (uncompressed) tar stream entry by entry with tar-stream.
 * Entries are handled one at a time, in order; any error (ours or a
 * corrupt/truncated archive) rejects, naming `what`.
 */
export async function readTar(
  source: Readable,
  onEntry: (header: tar.Headers, body: AsyncIterable<Buffer>) => Promise<void>,
  what: string,
): Promise<void> {
  const extract = tar.extract();
  const piped = pipeline(source, extract as unknown as NodeJS.WritableStream);
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
    throw new InvalidArchiveError(`${what} is corrupt or truncated (${message})`, { cause: failure });
  }
}
