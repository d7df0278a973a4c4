import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { major, minor, type Syscalls } from '@berth/syscall';
import * as tar from 'tar-stream';
import { readXattrs } from './attrs.js';

/** ustar's 7-digit octal id fields hold at most 0o7777777; larger ids go in PAX records. */
const MAX_USTAR_ID = 0o777777;

/**
 * xattrs as PAX records. Values that are valid UTF-8 use GNU tar's
 * `SCHILY.xattr.NAME`; binary ones (security.capability) use libarchive's
 * `LIBARCHIVE.xattr.<url-encoded name>=<base64>`, because tar-stream reads PAX
 * values as UTF-8 strings and would mangle raw bytes.
 */
export function xattrsToPax(xattrs: ReadonlyMap<string, Buffer>, pax: Record<string, string>): void {
  for (const [name, value] of xattrs) {
    const text = value.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(value) && !text.includes('\0')) pax[`SCHILY.xattr.${name}`] = text;
    else pax[`LIBARCHIVE.xattr.${encodeURIComponent(name)}`] = value.toString('base64');
  }
}

function baseHeader(name: string, st: fs.BigIntStats, sys: Syscalls, file: string): tar.Headers {
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  const pax: Record<string, string> = {};
  xattrsToPax(readXattrs(file, sys), pax);
  if (uid > MAX_USTAR_ID) pax['uid'] = String(uid);
  if (gid > MAX_USTAR_ID) pax['gid'] = String(gid);
  return {
    name,
    mode: Number(st.mode) & 0o7777,
    uid: uid > MAX_USTAR_ID ? 0 : uid,
    gid: gid > MAX_USTAR_ID ? 0 : gid,
    mtime: new Date(Number(st.mtimeNs / 1_000_000_000n) * 1000),
    size: 0,
    pax: Object.keys(pax).length > 0 ? pax : null,
  };
}

async function addEntry(pack: tar.Pack, header: tar.Headers, file?: string): Promise<void> {
  if (file === undefined) {
    await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
    return;
  }
  // O_NOFOLLOW: a file swapped for a symlink since the walk must not be read through.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const done = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    pipeline(fs.createReadStream('', { fd }), sink).catch(reject);
  });
  await done;
}

/**
 * A tar stream of a directory tree: PAX xattrs, numeric owners, modes,
 * mtimes (seconds), symlinks, hardlinks (later names as link entries),
 * devices and FIFOs. The root directory is the entry `./`.
 */
export function exportTree(root: string, sys: Syscalls): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  const links = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const entryName = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(file, { bigint: true });
      const header = baseHeader(entryName, st, sys, file);
      if (st.isDirectory()) {
        await addEntry(pack, { ...header, type: 'directory' });
        await walk(file, entryName);
        continue;
      }
      if (st.isSocket()) continue;
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await addEntry(pack, { ...header, type: 'link', linkname: first });
          continue;
        }
        links.set(key, entryName);
      }
      if (st.isSymbolicLink()) await addEntry(pack, { ...header, type: 'symlink', linkname: fs.readlinkSync(file) });
      else if (st.isFile()) await addEntry(pack, { ...header, type: 'file', size: Number(st.size) }, file);
      else if (st.isFIFO()) await addEntry(pack, { ...header, type: 'fifo' });
      else {
        const dev = Number(st.rdev);
        const type = st.isCharacterDevice() ? 'character-device' : 'block-device';
        await addEntry(pack, { ...header, type, devmajor: major(dev), devminor: minor(dev) });
      }
    }
  };
  const run = async (): Promise<void> => {
    const top = fs.lstatSync(root, { bigint: true });
    await addEntry(pack, { ...baseHeader('./', top, sys, root), type: 'directory' });
    await walk(root, '');
    pack.finalize();
  };
  pack.pipe(out);
  run().catch((error: unknown) => {
    out.destroy(error as Error);
    pack.destroy();
  });
  return out;
}
