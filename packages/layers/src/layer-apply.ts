import { closeSync, linkSync, lstatSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, writeSync, chmodSync, lutimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Headers } from 'tar-stream';
import { AT_FDCWD, OVERLAY_OPAQUE_XATTR, S_IFBLK, S_IFCHR, S_IFIFO, makedev, type Syscalls } from '@berth/syscall';
import { UnsafeEntryError } from './errors.js';
import { asArchiveError, Decoder, type ByteSink, type Compression } from './tar-read.js';
import { isRegular, TarParser, type EntrySink } from './tar-parser.js';
import { TAR_SPLIT_FILE, TarSplitRecorder } from './tar-split.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * A tar entry name as a path relative to the layer root, or '' for the root
 * itself ("", ".", "./", "/"). Refuses absolute names and any `..` component outright: a layer
 * never needs them, and refusing is simpler to prove safe than cleaning.
 */
export function entryPath(name: string, entry = name): string {
  if (name.includes('\0')) throw new UnsafeEntryError(entry, 'the name contains a NUL byte');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  // umoci writes the layer root as "/" (and others as "."): that one is fine.
  if (parts.length === 0) return '';
  if (name.startsWith('/')) throw new UnsafeEntryError(entry, 'absolute paths are not allowed in a layer');
  if (parts.includes('..')) throw new UnsafeEntryError(entry, 'a ".." component would leave the layer');
  return parts.join('/');
}


interface DirMeta { rel: string; mode: number; uid: number; gid: number; mtime: Date }

/** Runs a create (mkdir, symlink, link): false if the name was taken, any other error thrown. */
function tryCreate(create: () => void): boolean {
  try {
    create();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** Decodes PAX xattr records: `SCHILY.xattr.NAME` (raw) and `LIBARCHIVE.xattr.NAME` (base64). */
export function paxXattrs(pax: Record<string, string> | null | undefined): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const [key, value] of Object.entries(pax ?? {})) {
    let name: string | undefined;
    let data: Buffer | undefined;
    if (key.startsWith('SCHILY.xattr.')) {
      name = key.slice('SCHILY.xattr.'.length);
      data = Buffer.from(value, 'utf8');
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      data = Buffer.from(value, 'base64');
    }
    // trusted.overlay.* from an archive could forge redirects or metacopy in
    // the merged tree; the only overlay attribute a layer may carry is the
    // opaque marker, and that comes from `.wh..wh..opq`.
    if (name && data && !name.startsWith('trusted.overlay.')) out.push([name, data]);
  }
  return out;
}

/**
 * Unpacks one layer tar into `dest` exactly as overlayfs reads a lower
 * layer: whiteouts as 0/0 character devices, opaque directories by xattr,
 * owners, modes, mtimes, xattrs, hardlinks, devices and FIFOs preserved.
 * Every entry's parent is walked component by component with lstat, so a
 * symlink planted earlier in the layer is never followed.
 */
export class LayerWriter {
  private readonly knownDirs = new Set<string>(['']);
  private readonly dirs = new Map<string, DirMeta>();
  size = 0;

  /**
   * The owner every inode made under `dest` gets: the layer directory is
   * new, each directory in it is made by this writer without set-gid (modes
   * come in `finish`, after the children), so a new file, link or
   * directory is owned as `dest` is (its group too where the filesystem
   * takes the parent's). An entry with that owner needs no `lchown`: for
   * busybox that is every entry, ~500 calls through koffi (~4 ms) per import.
   */
  private readonly born: { uid: number; gid: number };

  /** `dest` exists (made by the caller). `split`: told, in order, where each regular file's content went (see `TarSplitRecorder`). */
  constructor(private readonly dest: string, private readonly sys: Syscalls, private readonly split?: TarSplitRecorder) {
    const st = lstatSync(dest);
    this.born = { uid: st.uid, gid: st.gid };
  }

  /** Sets the owner unless the inode, new, already has it. */
  private chown(abs: string, uid: number, gid: number): void {
    if (uid !== this.born.uid || gid !== this.born.gid) this.sys.lchown(abs, uid, gid);
  }

  /** `rel` comes from `entryPath` (no empty, `.` or `..` component), so joining needs no normalising: several calls per entry. */
  private abs(rel: string): string {
    return rel === '' ? this.dest : `${this.dest}/${rel}`;
  }

  /** Makes sure every ancestor of `rel` is a real directory of this layer. */
  private ensureParents(rel: string, entry: string, create: boolean): void {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const part of parts) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (this.knownDirs.has(cur)) continue;
      const st = lstatOrUndefined(this.abs(cur));
      if (st === undefined) {
        if (!create) throw new UnsafeEntryError(entry, `${cur} does not exist in this layer`);
        // Parents without entries of their own (umoci writes these) get docker's defaults.
        mkdirSync(this.abs(cur), { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw new UnsafeEntryError(entry, `its parent ${cur} is a symlink in this layer, and writing through it could escape the layer`);
      } else if (!st.isDirectory()) {
        throw new UnsafeEntryError(entry, `its parent ${cur} is not a directory`);
      }
      this.knownDirs.add(cur);
    }
  }

  private removeExisting(rel: string): void {
    const abs = this.abs(rel);
    const st = lstatOrUndefined(abs);
    if (st === undefined) return;
    if (st.isDirectory()) {
      rmSync(abs, { recursive: true, force: true });
      for (const d of [...this.knownDirs]) if (d === rel || d.startsWith(`${rel}/`)) this.knownDirs.delete(d);
      for (const d of [...this.dirs.keys()]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
    } else {
      unlinkSync(abs);
    }
  }

  /**
   * Opens a new file for writing. A name that already exists in the layer
   * (an archive that writes it twice) is rare, so the create is tried first
   * and only EEXIST costs the lstat and removal: one system call per file
   * less than looking first.
   */
  private createFile(rel: string): number {
    try {
      return openSync(this.abs(rel), 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.removeExisting(rel);
    return openSync(this.abs(rel), 'wx', 0o600);
  }

  private setMeta(rel: string, h: Headers, isSymlink: boolean): void {
    const abs = this.abs(rel);
    this.chown(abs, h.uid ?? 0, h.gid ?? 0);
    // After chown: chown clears set-id bits.
    if (!isSymlink) chmodSync(abs, (h.mode ?? 0o644) & 0o7777);
    for (const [name, value] of paxXattrs(h.pax)) this.sys.lsetxattr(abs, name, value, 0);
    const mtime = h.mtime ?? new Date(0);
    lutimesSync(abs, mtime, mtime);
  }

  /**
   * Applies one entry. A regular file is opened here and gets its content
   * through the returned sink (written as it comes, no copy); every other
   * kind is done before this returns.
   */
  entry(h: Headers): EntrySink | undefined {
    const rel = entryPath(h.name);
    const base = rel.split('/').pop() ?? '';
    if (rel === '') {
      if (isRegular(h) && (h.size ?? 0) > 0) this.split?.fileNotKept();
      if (h.type === 'directory') this.dirs.set('', { rel: '', mode: h.mode ?? 0o755, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0) });
      return undefined;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      if (isRegular(h) && (h.size ?? 0) > 0) this.split?.fileNotKept();
      this.whiteout(rel, base, h.name);
      return undefined;
    }
    switch (h.type) {
      case 'directory': {
        this.ensureParents(rel, h.name, true);
        // Made first, looked at only when the name is taken (as createFile): one system call less per directory.
        if (!tryCreate(() => mkdirSync(this.abs(rel), { mode: 0o700 })) && lstatOrUndefined(this.abs(rel))?.isDirectory() !== true) {
          this.removeExisting(rel);
          mkdirSync(this.abs(rel), { mode: 0o700 });
        }
        this.knownDirs.add(rel);
        this.dirs.set(rel, { rel, mode: h.mode ?? 0o755, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0) });
        for (const [name, value] of paxXattrs(h.pax)) this.sys.lsetxattr(this.abs(rel), name, value, 0);
        return undefined;
      }
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined: {
        this.ensureParents(rel, h.name, true);
        let fd: number | undefined = this.createFile(rel);
        const close = (): void => {
          if (fd === undefined) return;
          const f = fd;
          fd = undefined;
          closeSync(f);
        };
        return {
          data: (chunk: Buffer): void => {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd!, chunk, off, chunk.length - off);
          },
          end: (): void => {
            close();
            this.size += h.size ?? 0;
            if ((h.size ?? 0) > 0) this.split?.fileWritten(rel);
            this.setMeta(rel, h, false);
          },
          abort: close,
        };
      }
      case 'symlink': {
        this.ensureParents(rel, h.name, true);
        if (!tryCreate(() => symlinkSync(h.linkname ?? '', this.abs(rel)))) {
          this.removeExisting(rel);
          symlinkSync(h.linkname ?? '', this.abs(rel));
        }
        this.setMeta(rel, h, true);
        return undefined;
      }
      case 'link': {
        const target = entryPath(h.linkname ?? '', h.name);
        if (target === '') throw new UnsafeEntryError(h.name, 'a hardlink to the layer root is not allowed');
        this.ensureParents(rel, h.name, true);
        this.ensureParents(target, h.name, false);
        const st = lstatOrUndefined(this.abs(target));
        if (st === undefined) throw new UnsafeEntryError(h.name, `its hardlink target ${target} is not in this layer`);
        if (st.isDirectory()) throw new UnsafeEntryError(h.name, `its hardlink target ${target} is a directory`);
        if (target === rel) return undefined;
        if (!tryCreate(() => linkSync(this.abs(target), this.abs(rel)))) {
          this.removeExisting(rel);
          linkSync(this.abs(target), this.abs(rel));
        }
        return undefined;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        this.ensureParents(rel, h.name, true);
        this.removeExisting(rel);
        const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'block-device' ? S_IFBLK : S_IFCHR;
        const dev = h.type === 'fifo' ? 0 : makedev(h.devmajor ?? 0, h.devminor ?? 0);
        this.sys.mknodat(AT_FDCWD, this.abs(rel), kind | ((h.mode ?? 0o644) & 0o7777), dev);
        // mknod's mode went through the umask, so set it again; a recording
        // Syscalls double makes no node, and then there is nothing to set.
        if (lstatOrUndefined(this.abs(rel)) === undefined) this.sys.lchown(this.abs(rel), h.uid ?? 0, h.gid ?? 0);
        else this.setMeta(rel, h, false);
        return undefined;
      }
      default:
        // pax-global-header and other metadata-only records carry no file.
        return undefined;
    }
  }

  private whiteout(rel: string, base: string, entry: string): void {
    const dir = rel.slice(0, rel.length - base.length).replace(/\/$/, '');
    if (base === OPAQUE_MARKER) {
      this.ensureParents(rel, entry, true);
      this.sys.lsetxattr(this.abs(dir), OVERLAY_OPAQUE_XATTR, Buffer.from('y'), 0);
      return;
    }
    // Other `.wh..wh.` names are aufs bookkeeping (plinks), not files.
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw new UnsafeEntryError(entry, 'a whiteout must name a file');
    const target = dir === '' ? name : `${dir}/${name}`;
    this.ensureParents(target, entry, true);
    this.removeExisting(target);
    this.sys.mknodat(AT_FDCWD, this.abs(target), S_IFCHR, 0);
  }

  /** Directory metadata last: creating children changes a directory's mtime. */
  finish(): void {
    const dirs = [...this.dirs.values()].sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
    for (const d of dirs) {
      const abs = this.abs(d.rel);
      this.chown(abs, d.uid, d.gid);
      chmodSync(abs, d.mode & 0o7777);
      lutimesSync(abs, d.mtime, d.mtime);
    }
  }
}

export interface ApplyOptions {
  syscalls: Syscalls;
  /** Called with the bytes read so far (compressed bytes for gzip). */
  onBytes?: (done: number) => void;
  what: string;
  /** The blob digest the bytes must have (a registry's, or an OCI layout's file name): checked as they stream. */
  expectDigest?: string;
  /** Every chunk as it came, before inflating. */
  onRaw?: (chunk: Buffer) => void;
  /** Told each chunk of `source` once nothing holds it any more, so its buffer can be read into again. */
  release?: (chunk: Buffer) => void;
}

export interface UnpackedLayer {
  /** sha256 of the bytes as they came: the blob digest a registry or an OCI layout names it by. */
  blobDigest: string;
  blobSize: number;
  /** sha256 of the uncompressed tar: the layer's diffID (the same hash as blobDigest for a plain tar). */
  diffId: string;
  /** Bytes of file content. */
  size: number;
  compression: Compression;
}

/**
 * One layer being unpacked from pushed chunks: its uncompressed bytes go to
 * the tar-split record and the tar parser, whose entries the `LayerWriter`
 * applies, all synchronously, so a chunk is done with when `write` returns.
 */
export class LayerUnpack implements ByteSink {
  readonly decoder: Decoder;
  private readonly split: TarSplitRecorder;
  private readonly writer: LayerWriter;
  private readonly parser: TarParser;
  private closed = false;

  constructor(dest: string, private readonly opts: Omit<ApplyOptions, 'release'>) {
    mkdirSync(dest, { recursive: true, mode: 0o755 });
    // The tar's bytes without file contents, next to diff/: a loaded layer can be saved and pushed as the same tar.
    this.split = new TarSplitRecorder(join(dest, '..', TAR_SPLIT_FILE));
    this.writer = new LayerWriter(dest, opts.syscalls, this.split);
    this.parser = new TarParser((h) => this.writer.entry(h), this.split);
    this.decoder = new Decoder(opts.what, this, {
      ...(opts.onBytes ? { onBytes: opts.onBytes } : {}), ...(opts.onRaw ? { onRaw: opts.onRaw } : {}),
      ...(opts.expectDigest === undefined ? {} : { expectDigest: opts.expectDigest }),
    });
  }

  write(chunk: Buffer): void {
    this.parser.write(chunk);
  }

  /** The bytes ended: checks the tar's end and the digest, sets directory metadata last. */
  async finish(): Promise<UnpackedLayer> {
    try {
      await this.decoder.end();
      try {
        this.parser.end();
      } catch (error) {
        throw asArchiveError(error, this.opts.what);
      }
    } finally {
      this.close();
    }
    this.writer.finish();
    const d = this.decoder;
    return { blobDigest: d.rawDigest(), blobSize: d.rawBytes(), diffId: d.uncompressedDigest(), size: this.writer.size, compression: d.compression ?? 'none' };
  }

  /** Closes what an unfinished layer holds (its open file, the record). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.abort();
    this.decoder.destroy();
    this.split.finish();
  }
}

/**
 * Unpacks one layer (gzip or plain tar, sniffed) from a stream into `dest`,
 * reading it once: the bytes are hashed as they pass (blob digest), inflated
 * if needed (diffID of the inflated bytes) and written as they are parsed.
 */
export async function unpackLayer(source: AsyncIterable<Buffer>, dest: string, opts: ApplyOptions): Promise<UnpackedLayer> {
  const layer = new LayerUnpack(dest, opts);
  const decoder = layer.decoder;
  try {
    for await (const chunk of source) {
      decoder.push(chunk, true);
      if (decoder.busy) await decoder.drained();
      opts.release?.(chunk);
    }
  } catch (error) {
    layer.close();
    throw asArchiveError(error, opts.what);
  }
  return await layer.finish();
}

/** A file as a stream of big chunks (see `fileChunks` in tar-read). */
export { fileChunks, type RecyclingSource } from './tar-read.js';
