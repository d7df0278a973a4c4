import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { DigestMismatchError, InvalidArchiveError, LayerStoreError, UnsupportedCompressionError } from './errors.js';

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
    else this.pending?.push(Buffer.from(chunk));
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

/**
 * A source of big chunks whose buffers can be handed back once consumed, so
 * the next read goes into memory that is already mapped: a fresh 1 MiB
 * buffer per read cost a page fault per 4 KiB, and those were the largest
 * cost of an import after creating the files (see the bench README).
 */
export interface RecyclingSource extends AsyncIterable<Buffer> {
  recycle(chunk: Buffer): void;
}

/**
 * Buffers kept for the next read, shared by every file read in this thread
 * (a pool per import paid the faults again each time): the chunk being
 * parsed and the one read ahead.
 */
const POOL_LIMIT = 4;
const pool: Buffer[] = [];

/**
 * A file read in INGEST_CHUNK reads into buffers handed back with `recycle`.
 * `blocking` (a worker thread, which may block): each read is a plain
 * `read(2)` on this thread; otherwise reads go to libuv's threads, one read
 * ahead, so the calling thread never waits on the disk.
 */
export function fileChunks(file: string, opts: { blocking?: boolean } = {}): RecyclingSource {
  const take = (): Buffer => pool.pop() ?? Buffer.allocUnsafeSlow(INGEST_CHUNK);
  return {
    recycle(chunk: Buffer): void {
      if (chunk.byteOffset !== 0 || chunk.buffer.byteLength !== INGEST_CHUNK || pool.length >= POOL_LIMIT) return;
      pool.push(Buffer.from(chunk.buffer, 0, INGEST_CHUNK));
    },
    [Symbol.asyncIterator]: opts.blocking === true ? () => blockingReads(file, take) : () => readsAhead(file, take),
  };
}

async function* blockingReads(file: string, take: () => Buffer): AsyncGenerator<Buffer> {
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const buf = take();
      const n = readSync(fd, buf, 0, INGEST_CHUNK, null);
      if (n === 0) return;
      yield n === INGEST_CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function* readsAhead(file: string, take: () => Buffer): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  const readOne = async (): Promise<Buffer> => {
    const buf = take();
    const { bytesRead } = await fh.read(buf, 0, INGEST_CHUNK, null);
    return bytesRead === INGEST_CHUNK ? buf : buf.subarray(0, bytesRead);
  };
  let next: Promise<Buffer> | undefined = readOne();
  try {
    for (;;) {
      const chunk: Buffer = await next;
      next = undefined;
      if (chunk.length === 0) return;
      next = readOne();
      yield chunk;
    }
  } finally {
    await next?.catch(() => undefined);
    await fh.close();
  }
}

/** An error while reading `what` as a store error: ours pass, anything else (tar-stream's, zlib's) says the input is bad. */
export function asArchiveError(error: unknown, what: string): Error {
  if (error instanceof LayerStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InvalidArchiveError(`${what} is corrupt or truncated (${message})`, { cause: error });
}

/** Takes uncompressed bytes, synchronously. */
export interface ByteSink {
  write(chunk: Buffer): void;
}

export interface DecoderOptions {
  /** Called with the bytes read so far (compressed bytes for gzip). */
  onBytes?: (done: number) => void;
  /** Every chunk as it came, before inflating: a pull keeps the compressed blob for a later push. */
  onRaw?: (chunk: Buffer) => void;
  /** Hash only once `startHashing` is called (an archive whose format is known only at its first entry). */
  lazyHash?: boolean;
  /** The digest the bytes as they come must have: after a failure the rest is still read and hashed, so a tampered or cut blob says so. */
  expectDigest?: string;
}

/**
 * Sniffs a byte stream (gzip or plain; zstd refused by name), hashes each
 * byte once (a plain stream's digest is both its blob digest and its
 * diffID; a gzip stream gets a second hash after inflating) and hands the
 * uncompressed bytes to `sink`. Plain bytes go through synchronously; gzip
 * is inflated by zlib on its thread, `drained()` resolving once every byte
 * pushed so far was inflated and handed on (so the caller may reuse it).
 */
export class Decoder {
  private readonly raw: LazyHash;
  private inner: LazyHash | undefined;
  private gunzip: Gunzip | undefined;
  private gunzipDone: Promise<void> | undefined;
  private sniff: Buffer[] | undefined = [];
  private sniffed = 0;
  private count = 0;
  private failure: unknown;
  private failed = false;
  private lastWrite: Promise<void> | undefined;
  private waiting: (() => void) | undefined;
  /** With `lazyHash`, undecided until `startHashing` or `dropHashing`. */
  private hashing: 'lazy' | 'on' | 'off';
  compression: Compression | undefined;

  constructor(private readonly what: string, private readonly sink: ByteSink, private readonly opts: DecoderOptions = {}) {
    this.hashing = opts.lazyHash === true ? 'lazy' : 'on';
    this.raw = new LazyHash(this.hashing === 'on');
  }

  /** `owned`: the caller keeps the chunk until `drained()` resolves; otherwise gzip input is copied. */
  push(chunk: Buffer, owned: boolean): void {
    if (this.failed && this.opts.expectDigest === undefined) throw this.failure;
    this.opts.onRaw?.(chunk);
    this.count += chunk.length;
    this.opts.onBytes?.(this.count);
    // Hashed after it was handed on: a lazy hash is usually told at the first entry, in this same call, and then needs no copy.
    try {
      if (this.failed) return; // only hashed, for the digest check at the end
      if (this.sniff) {
        if (this.sniffed + chunk.length < 4) {
          this.sniff.push(Buffer.from(chunk));
          this.sniffed += chunk.length;
          return;
        }
        const first = this.sniffed === 0;
        const head = first ? chunk : Buffer.concat([...this.sniff, chunk]);
        this.sniff = undefined;
        this.start(head);
        this.forward(head, first ? owned : true);
        return;
      }
      this.forward(chunk, owned);
    } finally {
      this.raw.update(chunk);
    }
  }

  private start(head: Buffer): void {
    this.compression = sniffCompression(head, this.what);
    if (this.compression !== 'gzip') return;
    const inner = new LazyHash(this.hashing === 'on');
    if (this.hashing === 'off') inner.drop();
    this.inner = inner;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    this.gunzip = gunzip;
    gunzip.on('data', (out: Buffer) => {
      if (this.failed) return;
      inner.update(out);
      try {
        this.sink.write(out);
      } catch (error) {
        this.fail(error);
      }
    });
    this.gunzipDone = new Promise<void>((resolve) => {
      gunzip.on('end', resolve);
      // `fail` destroys the stream (the sink refused an entry while it was inflating): no 'end' comes then.
      gunzip.on('close', resolve);
      gunzip.on('error', (error) => { this.fail(error); resolve(); });
    });
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = error;
    this.gunzip?.destroy();
    this.waiting?.();
  }

  private forward(chunk: Buffer, owned: boolean): void {
    const gunzip = this.gunzip;
    if (!gunzip) {
      try {
        this.sink.write(chunk);
      } catch (error) {
        this.fail(error);
        if (this.opts.expectDigest === undefined) throw error;
      }
      return;
    }
    const input = owned ? chunk : Buffer.from(chunk);
    this.lastWrite = new Promise<void>((resolve) => {
      // A destroyed zlib stream may never call back for a chunk it was inflating: a failure releases the waiter too.
      this.waiting = resolve;
      gunzip.write(input, () => resolve());
    });
  }

  /** Resolves when the gzip stage has taken everything pushed so far; throws a failure (unless the digest is still to be checked). */
  async drained(): Promise<void> {
    if (this.lastWrite && !this.failed) await this.lastWrite;
    if (this.failed && this.opts.expectDigest === undefined) throw this.failure;
  }

  /** Whether `drained()` has anything to wait for. */
  get busy(): boolean {
    return this.gunzip !== undefined || (this.failed && this.opts.expectDigest === undefined);
  }

  /** The input ended: flushes the gzip stage, then throws the first failure (a digest mismatch first, when a digest was expected). */
  async end(): Promise<void> {
    if (this.sniff) {
      const head = Buffer.concat(this.sniff);
      this.sniff = undefined;
      if (head.length > 0 && !this.failed) {
        this.start(head);
        this.forward(head, true);
      }
    }
    if (this.gunzip && !this.failed) {
      this.gunzip.end();
      await this.gunzipDone;
    }
    const expect = this.opts.expectDigest;
    if (expect !== undefined && this.raw.digest() !== expect) throw new DigestMismatchError(this.what, expect, this.raw.digest());
    if (this.failed) throw asArchiveError(this.failure, this.what);
  }

  /** The source failed or the caller gave up: stop inflating. */
  destroy(): void {
    this.gunzip?.destroy();
  }

  rawDigest(): string { return this.raw.digest(); }
  uncompressedDigest(): string { return (this.inner ?? this.raw).digest(); }
  rawBytes(): number { return this.count; }
  startHashing(): void { this.hashing = 'on'; this.raw.start(); this.inner?.start(); }
  dropHashing(): void { this.hashing = 'off'; this.raw.drop(); this.inner?.drop(); }
}
