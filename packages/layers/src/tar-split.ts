import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LayerStoreError } from './errors.js';
import type { TarFraming } from './tar-parser.js';

/**
 * A layer tar's bytes without its file contents (what moby keeps as
 * "tar-split"): every header, PAX record, padding and end block verbatim,
 * and for each regular file's content only its length and where the layer
 * directory holds it. With the unpacked files it gives back the exact tar
 * the layer was loaded as, so `docker save` and `docker push` of a loaded
 * image keep its diffIDs. Written next to the layer's `diff/` while the
 * layer unpacks, renamed into place with it.
 *
 * File format: a sequence of `R <u32 length> <bytes>` (raw bytes) and
 * `F <u32 length> <path, utf-8> <f64 size>` (a file's content).
 */
export const TAR_SPLIT_FILE = 'tar-split';

const FLUSH_AT = 1 << 20;

type Pending = { kind: 'R'; bytes: Buffer } | { kind: 'F'; index: number; size: number };

/**
 * Writes a layer's record as `TarParser` frames the tar (`TarFraming`):
 * raw segments in 1 MiB batches, one file segment per regular file with
 * content; `LayerWriter` names those files in the same order
 * (`fileWritten`, or `fileNotKept` for content it does not store).
 */
export class TarSplitRecorder implements TarFraming {
  private readonly fd: number;
  /** Segments not yet written: a file segment waits for its path, which the writer gives after its content passed. */
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private rawParts: Buffer[] = [];
  private files = 0;
  private readonly paths: (string | null)[] = [];

  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  raw(bytes: Buffer): void {
    this.rawParts.push(Buffer.from(bytes));
  }

  file(size: number): void {
    this.flushRaw();
    this.pending.push({ kind: 'F', index: this.files++, size });
    this.pendingBytes += 16;
    this.maybeFlush();
  }

  /** The next regular file with content was written to `rel` in the layer directory. */
  fileWritten(rel: string): void {
    this.paths.push(rel);
  }

  /** The next regular file's content was not stored as a file (a whiteout with content): the tar cannot be rebuilt. */
  fileNotKept(): void {
    this.paths.push(null);
  }

  /** Writes what is left; the record is complete only if every file segment has its path. Returns whether it is. */
  finish(): boolean {
    this.flushRaw();
    const complete = this.paths.length === this.files && this.paths.every((p) => p !== null);
    if (complete) this.flush();
    closeSync(this.fd);
    if (!complete) unlinkSync(this.path);
    return complete;
  }

  private flushRaw(): void {
    if (this.rawParts.length === 0) return;
    const bytes = this.rawParts.length === 1 ? this.rawParts[0]! : Buffer.concat(this.rawParts);
    this.rawParts = [];
    this.pending.push({ kind: 'R', bytes });
    this.pendingBytes += bytes.length;
    this.maybeFlush();
  }

  /** In 1 MiB batches, once every pending file segment has its path. */
  private maybeFlush(): void {
    if (this.pendingBytes < FLUSH_AT) return;
    const last = this.pending.findLast((p) => p.kind === 'F');
    if (last?.kind === 'F' && last.index >= this.paths.length) return;
    this.flush();
  }

  private flush(): void {
    if (this.pending.some((p) => p.kind === 'F' && (this.paths[p.index] ?? null) === null)) {
      // Not rebuildable: nothing more is worth writing.
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    const parts: Buffer[] = [];
    for (const p of this.pending) {
      if (p.kind === 'R') {
        const head = Buffer.alloc(5);
        head[0] = 0x52;
        head.writeUInt32LE(p.bytes.length, 1);
        parts.push(head, p.bytes);
      } else {
        parts.push(fileSegment(this.paths[p.index]!, p.size));
      }
    }
    this.pending = [];
    this.pendingBytes = 0;
    const all = Buffer.concat(parts);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off, all.length - off);
  }
}

function fileSegment(path: string, size: number): Buffer {
  const p = Buffer.from(path, 'utf8');
  const b = Buffer.alloc(5 + p.length + 8);
  b[0] = 0x46;
  b.writeUInt32LE(p.length, 1);
  p.copy(b, 5);
  b.writeDoubleLE(size, 5 + p.length);
  return b;
}

/**
 * Rebuilds the layer tar from its record and the files in `diff` into the
 * file `out`, hashing it: the caller compares the digest with the diffID
 * before a byte of it leaves the store (a file changed or replaced since
 * would otherwise go out as part of the layer). Asynchronous, 1 MiB at a
 * time: a layer of gigabytes must not hold the supervisor's main thread.
 */
export async function rebuildLayerTar(layerDir: string, out: string): Promise<{ digest: string; size: number }> {
  const record = await readFile(join(layerDir, TAR_SPLIT_FILE));
  const hash = createHash('sha256');
  const sink = await open(out, 'wx', 0o600);
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  const emit = async (b: Buffer): Promise<void> => {
    hash.update(b);
    size += b.length;
    let off = 0;
    while (off < b.length) off += (await sink.write(b, off, b.length - off)).bytesWritten;
  };
  try {
    let off = 0;
    while (off < record.length) {
      const kind = record[off]!;
      const len = record.readUInt32LE(off + 1);
      off += 5;
      if (kind === 0x52) {
        await emit(record.subarray(off, off + len));
        off += len;
      } else if (kind === 0x46) {
        const rel = record.subarray(off, off + len).toString('utf8');
        const want = record.readDoubleLE(off + len);
        off += len + 8;
        const file = await open(join(layerDir, 'diff', rel), constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          let left = want;
          while (left > 0) {
            const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, left), null);
            if (bytesRead === 0) throw new LayerStoreError('SAVE_UNSUPPORTED', `failed to rebuild the layer tar: ${rel} is shorter than when it was loaded`);
            await emit(buf.subarray(0, bytesRead));
            left -= bytesRead;
          }
        } finally {
          await file.close();
        }
      } else {
        throw new LayerStoreError('SAVE_UNSUPPORTED', 'failed to rebuild the layer tar: its tar-split record is corrupt');
      }
    }
  } finally {
    await sink.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}
