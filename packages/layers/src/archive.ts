import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Syscalls } from '@berth/syscall';
import type { Headers } from 'tar-stream';
import { DigestMismatchError, InvalidArchiveError } from './errors.js';
import { entryPath, LayerUnpack, LayerWriter, unpackLayer, type UnpackedLayer } from './layer-apply.js';
import { asArchiveError, Decoder, looksLikeTar } from './tar-read.js';
import { TarParser, type EntrySink } from './tar-parser.js';
import type { ImageConfig } from './types.js';

export type ArchiveFormat = 'docker-save' | 'oci-layout' | 'rootfs';

/** How to read a stream: an image archive (`docker load`), a root filesystem (`docker import`), or decide at its first entry. */
export type IngestMode = 'archive' | 'rootfs' | 'auto';

/** A layer staged under a temporary directory, already unpacked and hashed. */
export interface StagedUnpack {
  /** `layers/.tmp-*`; the files are in `<tmp>/diff`. */
  tmp: string;
  layer: UnpackedLayer;
}

/** One regular file of an image archive: unpacked on the way if it is a layer tar, else kept. */
export type ArchiveFile =
  | { kind: 'layer'; name: string; staged: StagedUnpack; taken: boolean }
  | { kind: 'data'; name: string; digest: string; size: number; bytes?: Buffer; path?: string };

/** One image found in an archive, ready to be staged. */
export interface ImagePlan {
  /** hex of sha256(config blob): the image id. */
  id: string;
  config: ImageConfig;
  created: string;
  diffIds: string[];
  /** The archive file of each layer, bottom first (for a rootfs import, the one staged layer). */
  layerFiles: ArchiveFile[];
  tags: string[];
  /** The config blob as stored (for save, history and push). */
  configBlob?: Buffer;
  /** `name@sha256:…` of the manifest it was pulled by. */
  repoDigests?: string[];
  /** The compressed blob each layer came as (pull), so a push can send it again. */
  blobs?: { diff_id: string; digest: string; media_type: string; size: number; repository: string }[];
}

/** Files kept in memory up to this size; bigger non-layer files go to the work directory. */
const IN_MEMORY_LIMIT = 8 << 20;

/** Names only an image archive has at its top: `docker save` (old and OCI style), skopeo, umoci. */
const ARCHIVE_NAMES = /^(?:manifest\.json|repositories|oci-layout|index\.json|blobs(?:\/.*)?|[a-f0-9]{64}(?:\.json|\.tar|\/.*)?)$/;

/** The regular files of an image archive by normalised name, links resolved by name. */
export class ArchiveContents {
  readonly files = new Map<string, ArchiveFile>();
  readonly links = new Map<string, string>();

  private resolve(name: string): string {
    let cur = entryPath(name);
    for (let i = 0; i < 16 && this.links.has(cur); i++) cur = this.links.get(cur) ?? cur;
    return cur;
  }

  get(name: string, what: string): ArchiveFile {
    const f = this.files.get(this.resolve(name));
    if (!f) throw new InvalidArchiveError(`${what} ${name} is missing from the archive`);
    return f;
  }

  has(name: string): boolean {
    return this.files.has(this.resolve(name));
  }

  bytes(f: ArchiveFile, what: string): Buffer {
    if (f.kind === 'layer') throw new InvalidArchiveError(`${what} ${f.name} is a tar, not JSON`);
    return f.bytes ?? readFileSync(f.path ?? '');
  }

  json(name: string, what: string): unknown {
    const bytes = this.bytes(this.get(name, what), what);
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (error) {
      throw new InvalidArchiveError(`${what} ${name} is not valid JSON`, { cause: error });
    }
  }

  /** A content-addressed blob, checked against its digest (and size when known). */
  blob(digest: string, what: string, size?: number): ArchiveFile {
    const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
    if (!m) throw new InvalidArchiveError(`${what} has an unsupported digest ${JSON.stringify(digest)}`);
    const f = this.get(`blobs/sha256/${m[1]}`, what);
    const actual = digestOf(f);
    if (actual !== digest) throw new DigestMismatchError(`${what} blobs/sha256/${m[1]}`, digest, actual);
    const actualSize = f.kind === 'layer' ? f.staged.layer.blobSize : f.size;
    if (size !== undefined && actualSize !== size) {
      throw new InvalidArchiveError(`${what} ${digest} is ${actualSize} bytes, its descriptor says ${size}`);
    }
    return f;
  }
}

export function digestOf(f: ArchiveFile): string {
  return f.kind === 'layer' ? f.staged.layer.blobDigest : f.digest;
}

export type Ingested =
  | { format: 'rootfs'; staged: StagedUnpack }
  | { format: 'archive'; contents: ArchiveContents };

export interface IngestOptions {
  mode: IngestMode;
  syscalls: Syscalls;
  /** A fresh `layers/.tmp-*` path for a layer about to be unpacked. */
  newLayerTmp(): string;
  /** Where non-layer files too big for memory go. */
  workDir: string;
  /** Bytes read from the source so far. */
  onBytes?: (done: number) => void;
  /** Every layer directory made is pushed here, so the caller can remove those not committed. */
  made: string[];
  /** Told each chunk of `source` once nothing holds it any more (see `unpackLayer`). */
  release?: (chunk: Buffer) => void;
}

/**
 * Reads an image archive or a root filesystem tar once: each layer tar in
 * an archive is unpacked while the archive streams past (its bytes hashed
 * once: for a plain layer that digest is its diffID), JSON and other small
 * files are kept. Which files are layers is known only from manifest.json,
 * which `docker save` writes last; tars not named there are dropped later.
 */
export async function ingest(source: AsyncIterable<Buffer>, opts: IngestOptions): Promise<Ingested> {
  const made = opts.made;
  if (opts.mode === 'rootfs') {
    const tmp = opts.newLayerTmp();
    made.push(tmp);
    const layer = await unpackLayer(source, join(tmp, 'diff'), {
      syscalls: opts.syscalls, what: 'the root filesystem tar',
      ...(opts.onBytes ? { onBytes: opts.onBytes } : {}), ...(opts.release ? { release: opts.release } : {}),
    });
    return { format: 'rootfs', staged: { tmp, layer } };
  }
  const contents = new ArchiveContents();
  let format: 'archive' | 'rootfs' | undefined = opts.mode === 'archive' ? 'archive' : undefined;
  let rootfs: { tmp: string; writer: LayerWriter } | undefined;
  let rootEntry: Headers | undefined;
  let n = 0;
  /** Nested layers still finishing (a gzip stage flushing), each with its failure observed. */
  const finishing: Promise<void>[] = [];
  /** The nested layer receiving bytes now, if it inflates on zlib's thread (the reader waits for it). */
  let inflating: Decoder | undefined;
  const open: { abort(): void }[] = [];

  const layerSink = (name: string, head: Buffer): EntrySink => {
    const tmp = opts.newLayerTmp();
    made.push(tmp);
    const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
    const what = `layer ${name}`;
    const layer = new LayerUnpack(join(tmp, 'diff'), {
      syscalls: opts.syscalls, what, ...(named === undefined ? {} : { expectDigest: `sha256:${named}` }),
    });
    const handle = { abort: () => layer.close() };
    open.push(handle);
    const push = (chunk: Buffer, owned: boolean): void => {
      try {
        layer.decoder.push(chunk, owned);
      } catch (error) {
        throw asArchiveError(error, what);
      }
      if (layer.decoder.busy) inflating = layer.decoder;
    };
    push(head, true);
    return {
      data: (chunk) => push(chunk, false),
      end: () => {
        if (inflating === layer.decoder) inflating = undefined;
        const done = layer.finish().then((unpacked) => {
          open.splice(open.indexOf(handle), 1);
          contents.files.set(name, { kind: 'layer', name, staged: { tmp, layer: unpacked }, taken: false });
        });
        done.catch(() => undefined);
        finishing.push(done);
      },
      abort: () => layer.close(),
    };
  };

  /** A regular file of an archive: its first 512 bytes say whether it is a layer tar (unpacked on the way) or data (kept). */
  const fileSink = (h: Headers, name: string): EntrySink => {
    const headParts: Buffer[] = [];
    let headBytes = 0;
    let target: EntrySink | undefined;
    const decide = (): EntrySink => {
      const head = headParts.length === 1 ? headParts[0]! : Buffer.concat(headParts);
      const compressed = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      target = compressed || looksLikeTar(head) || name.endsWith('/layer.tar')
        ? layerSink(name, head)
        : keep(name, head, h.size ?? 0, join(opts.workDir, String(n++)), contents);
      return target;
    };
    return {
      data: (chunk) => {
        if (target) { target.data(chunk); return; }
        headParts.push(Buffer.from(chunk.subarray(0, 512 - headBytes)));
        headBytes += Math.min(chunk.length, 512 - headBytes);
        if (headBytes < 512) return;
        const t = decide();
        if (chunk.length > headParts[headParts.length - 1]!.length) t.data(chunk.subarray(headParts[headParts.length - 1]!.length));
      },
      end: () => (target ?? decide()).end(),
      abort: () => target?.abort?.(),
    };
  };

  const parser = new TarParser((h) => {
    if (format === undefined) {
      const first = entryPath(h.name);
      // Both a root filesystem and a packed OCI layout may start with "./": decide at the next entry.
      if (first === '') { rootEntry = h; return undefined; }
      format = ARCHIVE_NAMES.test(first) ? 'archive' : 'rootfs';
      if (format === 'archive') {
        decoder.dropHashing();
      } else {
        decoder.startHashing();
        const tmp = opts.newLayerTmp();
        made.push(tmp);
        mkdirSync(join(tmp, 'diff'), { recursive: true, mode: 0o755 });
        rootfs = { tmp, writer: new LayerWriter(join(tmp, 'diff'), opts.syscalls) };
        if (rootEntry) rootfs.writer.entry(rootEntry)?.end();
      }
    }
    if (rootfs) return rootfs.writer.entry(h);
    const name = entryPath(h.name);
    if (h.type === 'symlink' || h.type === 'link') {
      const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname ?? '') : (h.linkname ?? '');
      contents.links.set(name, entryPath(target, h.name));
      return undefined;
    }
    if (h.type !== 'file' && h.type != null && h.type !== 'contiguous-file') return undefined;
    return fileSink(h, name);
  });
  const decoder = new Decoder('the archive', { write: (chunk) => parser.write(chunk) }, { lazyHash: true, ...(opts.onBytes ? { onBytes: opts.onBytes } : {}) });
  if (format === 'archive') decoder.dropHashing();
  const settle = async (): Promise<void> => {
    if (inflating) await inflating.drained();
    while (finishing.length > 0) await finishing.shift();
  };
  try {
    for await (const chunk of source) {
      decoder.push(chunk, true);
      if (decoder.busy) await decoder.drained();
      await settle();
      opts.release?.(chunk);
    }
    await decoder.end();
    parser.end();
    await settle();
  } catch (error) {
    parser.abort();
    for (const h of [...open]) h.abort();
    throw asArchiveError(error, 'the archive');
  }
  if (rootfs) {
    rootfs.writer.finish();
    const layer: UnpackedLayer = {
      blobDigest: decoder.rawDigest(), blobSize: decoder.rawBytes(), diffId: decoder.uncompressedDigest(),
      size: rootfs.writer.size, compression: decoder.compression ?? 'none',
    };
    return { format: 'rootfs', staged: { tmp: rootfs.tmp, layer } };
  }
  if (format === undefined || parser.entries === 0) {
    // Not one entry: an empty body, or bytes that are not a tar at all.
    throw new InvalidArchiveError(decoder.rawBytes() === 0 ? 'the archive is empty' : 'the archive is not a tar file (unexpected EOF)');
  }
  return { format: 'archive', contents };
}

/** A non-layer file of an archive, hashed and kept in memory (or, when big, in the work directory). */
function keep(name: string, head: Buffer, size: number, spill: string, contents: ArchiveContents): EntrySink {
  const hash = createHash('sha256');
  let total = 0;
  if (size <= IN_MEMORY_LIMIT) {
    const chunks: Buffer[] = [];
    const add = (c: Buffer): void => { hash.update(c); chunks.push(Buffer.from(c)); total += c.length; };
    add(head);
    return {
      data: add,
      end: () => { contents.files.set(name, { kind: 'data', name, digest: `sha256:${hash.digest('hex')}`, size: total, bytes: Buffer.concat(chunks) }); },
    };
  }
  mkdirSync(join(spill, '..'), { recursive: true, mode: 0o700 });
  let fd: number | undefined = openSync(spill, 'wx', 0o600);
  const close = (): void => { if (fd !== undefined) closeSync(fd); fd = undefined; };
  const add = (c: Buffer): void => {
    hash.update(c);
    total += c.length;
    let off = 0;
    while (off < c.length) off += writeSync(fd!, c, off, c.length - off);
  };
  add(head);
  return {
    data: add,
    end: () => { close(); contents.files.set(name, { kind: 'data', name, digest: `sha256:${hash.digest('hex')}`, size: total, path: spill }); },
    abort: close,
  };
}
