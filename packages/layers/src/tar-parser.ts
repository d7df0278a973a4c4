import type { Headers } from 'tar-stream';
import * as tarHeaders from 'tar-stream/headers.js';

/** Where one tar entry's content goes, slice by slice; a slice is valid only during the call. */
export interface EntrySink {
  data(chunk: Buffer): void;
  end(): void;
  /** The parse stopped inside this entry (an error): release what it holds. */
  abort?(): void;
}

/**
 * Told every byte the parser takes, in order: bytes to keep verbatim
 * (headers, PAX and long-name records, padding, end blocks, the content of
 * anything that is not a regular file), or a regular file's content by its
 * size. The tar-split record is written from this, so the tar is framed once.
 */
export interface TarFraming {
  /** Valid only during the call. */
  raw(bytes: Buffer): void;
  file(size: number): void;
}

const BLOCK = 512;

/** What `LayerWriter` stores as a file: tar-stream's 'file', 'contiguous-file', and types it does not know. */
export function isRegular(h: Headers): boolean {
  return h.type === 'file' || h.type === 'contiguous-file' || h.type == null;
}
const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/**
 * A tar parser fed chunks synchronously (`write`), calling `onEntry` for
 * each entry and its sink with the content as slices of the chunk it was
 * given, so nothing is copied and a chunk is free again when `write`
 * returns. Headers are decoded by tar-stream's own `headers` module, and
 * the framing follows tar-stream's `extract` (GNU long names, PAX records,
 * a PAX global header merged into the next PAX header, zero blocks skipped,
 * no content for directories), so entries come out as tar-stream gave them.
 */
export class TarParser {
  private readonly head = Buffer.alloc(BLOCK);
  private headFill = 0;
  private content = 0;
  private pad = 0;
  private sink: EntrySink | undefined;
  /** The content being read is a regular file's (not told to `framing` byte by byte). */
  private fileContent = false;
  private long: { type: string; parts: Buffer[] } | undefined;
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> | null = null;
  private gnuLongPath: string | null = null;
  private gnuLongLinkPath: string | null = null;
  /** Entries seen (metadata records not counted). */
  entries = 0;

  constructor(private readonly onEntry: (h: Headers) => EntrySink | undefined, private readonly framing?: TarFraming) {}

  write(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (this.content > 0) {
        const n = Math.min(this.content, len - off);
        const part = chunk.subarray(off, off + n);
        if (!this.fileContent) this.framing?.raw(part);
        if (this.long) this.long.parts.push(Buffer.from(part));
        else this.sink?.data(part);
        this.content -= n;
        off += n;
        if (this.content === 0) this.contentDone();
        continue;
      }
      if (this.pad > 0) {
        const n = Math.min(this.pad, len - off);
        this.framing?.raw(chunk.subarray(off, off + n));
        this.pad -= n;
        off += n;
        continue;
      }
      let block: Buffer;
      if (this.headFill === 0 && len - off >= BLOCK) {
        block = chunk.subarray(off, off + BLOCK);
        off += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.headFill, len - off);
        chunk.copy(this.head, this.headFill, off, off + n);
        this.headFill += n;
        off += n;
        if (this.headFill < BLOCK) continue;
        this.headFill = 0;
        block = this.head;
      }
      this.framing?.raw(block);
      this.header(block);
    }
  }

  private header(block: Buffer): void {
    const h = tarHeaders.decode(block, 'utf-8', false);
    if (h === null) return; // a zero block
    const size = h.size ?? 0;
    switch (h.type) {
      case 'gnu-long-path':
      case 'gnu-long-link-path':
      case 'pax-global-header':
      case 'pax-header':
        this.long = { type: h.type, parts: [] };
        this.fileContent = false;
        this.content = size;
        this.pad = padding(size);
        if (size === 0) this.contentDone();
        return;
    }
    if (this.gnuLongPath !== null) { h.name = this.gnuLongPath; this.gnuLongPath = null; }
    if (this.gnuLongLinkPath !== null) { h.linkname = this.gnuLongLinkPath; this.gnuLongLinkPath = null; }
    if (this.pax) {
      if (this.pax.path) h.name = this.pax.path;
      if (this.pax.linkpath) h.linkname = this.pax.linkpath;
      if (this.pax.size) h.size = parseInt(this.pax.size, 10);
      h.pax = this.pax;
      this.pax = null;
    }
    this.entries++;
    const entrySize = h.size ?? 0;
    const content = entrySize > 0 && h.type !== 'directory';
    this.fileContent = content && isRegular(h);
    if (this.fileContent) this.framing?.file(entrySize);
    const sink = this.onEntry(h);
    if (!content) {
      sink?.end();
      return;
    }
    this.sink = sink;
    this.content = entrySize;
    this.pad = padding(entrySize);
  }

  private contentDone(): void {
    const long = this.long;
    if (long) {
      this.long = undefined;
      const buf = long.parts.length === 1 ? long.parts[0]! : Buffer.concat(long.parts);
      if (long.type === 'gnu-long-path') this.gnuLongPath = tarHeaders.decodeLongPath(buf, 'utf-8');
      else if (long.type === 'gnu-long-link-path') this.gnuLongLinkPath = tarHeaders.decodeLongPath(buf, 'utf-8');
      else if (long.type === 'pax-global-header') this.paxGlobal = tarHeaders.decodePax(buf);
      else this.pax = this.paxGlobal === null ? tarHeaders.decodePax(buf) : { ...this.paxGlobal, ...tarHeaders.decodePax(buf) };
      return;
    }
    const sink = this.sink;
    this.sink = undefined;
    this.fileContent = false;
    sink?.end();
  }

  /**
   * The input ended. Throws tar-stream's "Unexpected end of data" if it
   * ended inside an entry, except in the one shape umoci 0.4 writes
   * (`insert` layers that stop right after the last file's data, without
   * padding or end blocks): every byte of content is there, and image
   * layers are checked against their diffID.
   */
  end(): void {
    // A cut inside a header block: kept as it came, as tar-stream ignores it.
    if (this.headFill > 0) this.framing?.raw(this.head.subarray(0, this.headFill));
    this.headFill = 0;
    if (this.content === 0 && this.long === undefined) return;
    this.abort();
    throw new Error('Unexpected end of data');
  }

  abort(): void {
    const sink = this.sink;
    this.sink = undefined;
    sink?.abort?.();
  }
}
