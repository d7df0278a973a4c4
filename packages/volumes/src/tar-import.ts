import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AT_FDCWD, S_IFBLK, S_IFCHR, S_IFIFO, makedev, type Syscalls } from '@berth/syscall';
import * as tar from 'tar-stream';
import { applyMeta, type FileMeta } from './attrs.js';

/** Why an archive was refused; the store wraps it in InvalidArchiveError. */
export class ArchiveRejection extends Error {}

/** An archive's entry name as a path relative to the root, or a rejection. */
export function entryPath(raw: string): string {
  if (raw.includes('\0')) throw new ArchiveRejection(`entry ${JSON.stringify(raw)} contains a NUL byte`);
  if (raw.startsWith('/')) throw new ArchiveRejection(`entry ${JSON.stringify(raw)} is an absolute path`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new ArchiveRejection(`entry ${JSON.stringify(raw)} climbs out with ".."`);
    parts.push(part);
  }
  return parts.join('/');
}

export function paxToXattrs(pax: Readonly<Record<string, string>> | null | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!pax) return out;
  for (const [key, value] of Object.entries(pax)) {
    if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length);
      if (!out.has(name)) out.set(name, Buffer.from(value, 'utf8'));
    }
  }
  // libarchive's base64 form carries the exact bytes; it wins over SCHILY's.
  for (const [key, value] of Object.entries(pax)) {
    if (key.startsWith('LIBARCHIVE.xattr.')) out.set(decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value, 'base64'));
  }
  return out;
}

/**
 * Refuses a stream that ends without tar's end-of-archive blocks: tar-stream
 * accepts a stream cut exactly between two entries as complete.
 */
class RequireEndOfArchive extends Transform {
  private tail = Buffer.alloc(0);
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.tail = Buffer.concat([this.tail, chunk]).subarray(-1024);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.tail.length < 1024 || this.tail.some((b) => b !== 0)) {
      cb(new ArchiveRejection('the archive is truncated (no end-of-archive marker)'));
    } else cb();
  }
}

/** Every ancestor of `rel` inside `root` must be a real directory; missing ones are made 0755. */
function ensureParents(root: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(dir);
    } catch {
      st = undefined;
    }
    if (st === undefined) fs.mkdirSync(dir, 0o755);
    else if (!st.isDirectory()) throw new ArchiveRejection(`entry ${JSON.stringify(rel)} goes through ${JSON.stringify(path.relative(root, dir))}, which is not a directory (a symlink cannot be followed)`);
  }
}

function removeExisting(target: string, rel: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new ArchiveRejection(`entry ${JSON.stringify(rel)} would replace a directory`);
  fs.unlinkSync(target);
}

async function drain(entry: tar.Entry): Promise<void> {
  entry.resume();
  await new Promise<void>((resolve, reject) => {
    entry.once('end', resolve);
    entry.once('error', reject);
  });
}

/**
 * Extract a tar stream into `root` (an empty directory nobody else writes
 * to). Names with `..` or a leading `/`, paths through symlinks, and
 * hardlinks to anything outside are refused; nothing outside `root` is ever
 * written. Directory metadata is applied last, deepest first.
 */
export async function extractTree(root: string, input: Readable, sys: Syscalls): Promise<{ entries: number }> {
  const extract = tar.extract();
  const piping = pipeline(input, new RequireEndOfArchive(), extract);
  piping.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
  const dirs: [string, FileMeta][] = [];
  let entries = 0;
  try {
    for await (const entry of extract) {
      entries++;
      const h = entry.header;
      const rel = entryPath(h.name);
      const target = rel === '' ? root : path.join(root, rel);
      const uid = h.pax?.['uid'] !== undefined ? Number(h.pax['uid']) : (h.uid ?? 0);
      const gid = h.pax?.['gid'] !== undefined ? Number(h.pax['gid']) : (h.gid ?? 0);
      const meta: FileMeta = {
        uid,
        gid,
        perm: (h.mode ?? 0o644) & 0o7777,
        mtimeMs: h.mtime ? h.mtime.getTime() : Date.now(),
        xattrs: paxToXattrs(h.pax),
      };
      if (rel !== '') ensureParents(root, rel);
      switch (h.type) {
        case 'directory': {
          if (rel !== '') {
            const st = fs.lstatSync(target, { throwIfNoEntry: false });
            if (st === undefined) fs.mkdirSync(target, 0o700);
            else if (!st.isDirectory()) throw new ArchiveRejection(`entry ${JSON.stringify(rel)} would replace a non-directory`);
          }
          dirs.push([target, meta]);
          await drain(entry);
          break;
        }
        case 'file':
        case 'contiguous-file': {
          if (rel === '') throw new ArchiveRejection('a file entry names the root');
          removeExisting(target, rel);
          const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry) fs.writeSync(fd, chunk as Buffer);
          } finally {
            fs.closeSync(fd);
          }
          applyMeta(target, meta, false, sys);
          break;
        }
        case 'symlink': {
          if (rel === '') throw new ArchiveRejection('a symlink entry names the root');
          removeExisting(target, rel);
          fs.symlinkSync(h.linkname ?? '', target);
          applyMeta(target, meta, true, sys);
          await drain(entry);
          break;
        }
        case 'link': {
          if (rel === '') throw new ArchiveRejection('a hardlink entry names the root');
          const linkRel = entryPath(h.linkname ?? '');
          if (linkRel === '') throw new ArchiveRejection(`hardlink ${JSON.stringify(rel)} points at the root`);
          ensureParents(root, linkRel);
          const source = path.join(root, linkRel);
          const st = fs.lstatSync(source, { throwIfNoEntry: false });
          if (st === undefined || st.isDirectory()) {
            throw new ArchiveRejection(`hardlink ${JSON.stringify(rel)} points at ${JSON.stringify(h.linkname)}, which is not a file earlier in the archive`);
          }
          removeExisting(target, rel);
          fs.linkSync(source, target);
          await drain(entry);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          if (rel === '') throw new ArchiveRejection('a device entry names the root');
          removeExisting(target, rel);
          const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'character-device' ? S_IFCHR : S_IFBLK;
          const dev = h.type === 'fifo' ? 0 : makedev(h.devmajor ?? 0, h.devminor ?? 0);
          sys.mknodat(AT_FDCWD, target, kind | meta.perm, dev);
          applyMeta(target, meta, false, sys);
          await drain(entry);
          break;
        }
        default:
          await drain(entry);
      }
    }
    await piping;
  } catch (error) {
    extract.destroy();
    input.destroy();
    await piping.catch(() => undefined);
    throw error;
  }
  for (const [dir, meta] of dirs.reverse()) applyMeta(dir, meta, false, sys);
  return { entries };
}
