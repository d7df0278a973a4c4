/**
 * `berth cp`'s host side: a host path as a tar stream (what `PUT
 * /containers/{id}/archive` takes), and a tar stream from a container
 * extracted onto the host. The archive comes from a container, so it is
 * treated as hostile: names that climb out, absolute names and anything
 * written through a symlink (one the archive made, or one already there)
 * are refused.
 */
import {
  closeSync, createReadStream, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, symlinkSync, unlinkSync,
  utimesSync, chmodSync, chownSync, writeSync, constants as fsc,
} from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { CliError } from './errors.js';

/** `source` (a file, a directory with everything below it, or a symlink) as a tar whose top entry is `name`; `name` '' puts a directory's children at the top. */
export function tarHostPath(source: string, name: string): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.on('error', () => undefined);
  const add = (h: tar.Headers, file?: string): Promise<void> => new Promise((resolve, reject) => {
    if (file === undefined) {
      pack.entry(h, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())).on('error', reject);
      return;
    }
    const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
    sink.on('error', reject);
    const fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    pipeline(createReadStream('', { fd, start: 0, end: Math.max(0, (h.size ?? 0) - 1) }), sink).catch(reject);
  });
  const walk = async (file: string, entry: string): Promise<void> => {
    const st = lstatSync(file);
    const base = { name: entry, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (entry !== '') await add({ ...base, name: `${entry}/`, type: 'directory' });
      for (const child of readdirSync(file).sort()) await walk(path.join(file, child), entry === '' ? child : `${entry}/${child}`);
    } else if (st.isSymbolicLink()) {
      await add({ ...base, type: 'symlink', linkname: readlinkSync(file) });
    } else if (st.isFile()) {
      if (st.size === 0) await add({ ...base, type: 'file' });
      else await add({ ...base, type: 'file', size: st.size }, file);
    }
  };
  pack.pipe(out);
  walk(source, name).then(() => pack.finalize(), (error: unknown) => out.destroy(error as Error));
  return out;
}

function refuse(what: string): CliError {
  return new CliError('IO', `refusing the archive from the container: ${what}; nothing past that entry was written`);
}

/** An entry name relative to the extraction directory, with its first component renamed when `rename` says so. */
function entryPath(raw: string, rename: { from: string; to: string } | undefined): string[] {
  if (raw.startsWith('/')) throw refuse(`entry ${JSON.stringify(raw)} is an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(`entry ${JSON.stringify(raw)} climbs out with ".."`);
  // `SRC/.` arrives as `./...`: its contents go under the new name.
  if (rename?.from === '.') return [rename.to, ...parts];
  if (rename && parts[0] === rename.from) parts[0] = rename.to;
  return parts;
}

/** Every parent of `parts` below `dest` must be a real directory (made 0755 when missing): nothing is written through a symlink. */
function parentOf(dest: string, parts: string[]): string {
  let dir = dest;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) mkdirSync(dir, 0o755);
    else if (!st.isDirectory()) throw refuse(`${path.join(...parts)} goes through ${dir}, which is not a directory`);
  }
  return dir;
}

/** Extracts a container's archive into the host directory `dest`; `keepOwners` (`-a`) keeps the archive's uid/gid. */
export async function extractOnHost(input: Readable, dest: string, opts: { rename?: { from: string; to: string }; keepOwners: boolean }): Promise<void> {
  const extract = tar.extract();
  const piping = pipeline(input, extract);
  piping.catch(() => undefined);
  const dirs: [string, tar.Headers][] = [];
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const parts = entryPath(h.name, opts.rename);
      if (parts.length === 0) {
        entry.resume();
        continue;
      }
      const target = path.join(parentOf(dest, parts), parts[parts.length - 1]!);
      const existing = lstatSync(target, { throwIfNoEntry: false });
      if (existing && !(existing.isDirectory() && h.type === 'directory')) {
        if (existing.isDirectory()) throw refuse(`${target} is a directory and the archive has a ${h.type ?? 'file'} there`);
        unlinkSync(target);
      }
      const mtime = h.mtime ?? new Date();
      switch (h.type) {
        case 'directory':
          if (!existing) mkdirSync(target, 0o700);
          dirs.push([target, h]);
          entry.resume();
          break;
        case 'symlink':
          symlinkSync(h.linkname ?? '', target);
          if (opts.keepOwners) lchownSync(target, h.uid ?? 0, h.gid ?? 0);
          lutimesSync(target, mtime, mtime);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          const fd = openSync(target, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
          try {
            for await (const chunk of entry) writeSync(fd, chunk as Buffer);
          } finally {
            closeSync(fd);
          }
          if (opts.keepOwners) chownSync(target, h.uid ?? 0, h.gid ?? 0);
          chmodSync(target, (h.mode ?? 0o644) & 0o7777);
          utimesSync(target, mtime, mtime);
          break;
        }
        default:
          // Hard links, devices and FIFOs are not made on the host by berth cp.
          entry.resume();
      }
    }
    await piping;
  } catch (error) {
    extract.destroy();
    input.destroy();
    throw error;
  }
  for (const [dir, h] of dirs.reverse()) {
    if (opts.keepOwners) chownSync(dir, h.uid ?? 0, h.gid ?? 0);
    chmodSync(dir, (h.mode ?? 0o755) & 0o7777);
    const mtime = h.mtime ?? new Date();
    utimesSync(dir, mtime, mtime);
  }
}
