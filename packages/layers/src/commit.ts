import { closeSync, createReadStream, createWriteStream, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, constants as fsc, type Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import {
  O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, isSyscallError, major, minor,
  type Syscalls,
} from '@berth/syscall';
import * as tar from 'tar-stream';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** overlayfs' own attributes describe the upper directory, not the files. */
const OVERLAY_XATTR = 'trusted.overlay.';

function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

function openBeneath(sys: Syscalls, dirFd: number, name: string, extra: number): number | undefined {
  try {
    return sys.openat2(dirFd, name, { flags: O_PATH | O_CLOEXEC | extra, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS });
  } catch (error) {
    if (['ENOENT', 'ENOTDIR', 'ELOOP'].some((code) => isSyscallError(error, code))) return undefined;
    throw error;
  }
}

function xattrsOf(sys: Syscalls, path: string): Record<string, string> {
  const pax: Record<string, string> = {};
  let names: string[];
  try {
    names = sys.llistxattr(path);
  } catch {
    return pax;
  }
  for (const name of names.sort()) {
    if (name.startsWith(OVERLAY_XATTR)) continue;
    const value = sys.lgetxattr(path, name);
    if (value !== null) pax[`LIBARCHIVE.xattr.${encodeURIComponent(name)}`] = value.toString('base64');
  }
  return pax;
}

/**
 * A container's overlay upper directory as an image layer tar (what `docker
 * commit` stores): overlay's 0/0 character devices become `.wh.NAME`
 * entries and opaque directories get a `.wh..wh..opq` entry, the OCI layer
 * form. The directory belongs to the container, which may be changing it:
 * the walk is fd-relative and follows no symlink. Without an upper
 * directory (a container never started) the layer is empty.
 */
export async function writeUpperLayer(sys: Syscalls, upper: string | undefined, file: string): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  written.catch(() => undefined);
  // Entries without content: an empty body, or tar-stream waits for a file entry's data.
  const add = (h: tar.Headers): Promise<void> => new Promise((resolve, reject) => {
    pack.entry(h, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())).on('error', reject);
  });
  const headerOf = (name: string, st: Stats, pax: Record<string, string>): tar.Headers => ({
    name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000), size: 0,
    ...(Object.keys(pax).length > 0 ? { pax } : {}),
  } as tar.Headers);
  const links = new Map<string, string>();
  const walk = async (dirFd: number, prefix: string): Promise<void> => {
    for (const name of readdirSync(fdPath(dirFd)).sort()) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const st = lstatSync(fdPath(dirFd, name), { throwIfNoEntry: false });
      if (!st || st.isSocket()) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        const at = path.lastIndexOf('/');
        await add({ name: `${path.slice(0, at + 1)}${WHITEOUT_PREFIX}${name}`, type: 'file', mode: 0o600, size: 0, mtime: new Date(0) });
        continue;
      }
      const pax = xattrsOf(sys, fdPath(dirFd, name));
      if (st.isDirectory()) {
        const fd = openBeneath(sys, dirFd, name, O_DIRECTORY);
        if (fd === undefined) continue;
        try {
          await add({ ...headerOf(`${path}/`, st, pax), type: 'directory' });
          const opaque = sys.lgetxattr(fdPath(fd, '.'), 'trusted.overlay.opaque');
          if (opaque !== null && opaque.toString() === 'y') {
            await add({ name: `${path}/${OPAQUE_MARKER}`, type: 'file', mode: 0o600, size: 0, mtime: new Date(0) });
          }
          await walk(fd, path);
        } finally {
          sys.close(fd);
        }
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = links.get(key);
        if (first !== undefined) {
          await add({ ...headerOf(path, st, pax), type: 'link', linkname: first });
          continue;
        }
        links.set(key, path);
      }
      if (st.isSymbolicLink()) {
        await add({ ...headerOf(path, st, pax), type: 'symlink', linkname: readlinkSync(fdPath(dirFd, name)) });
      } else if (st.isFile()) {
        const pathFd = openBeneath(sys, dirFd, name, O_NOFOLLOW);
        if (pathFd === undefined) continue;
        try {
          const fd = openSync(fdPath(pathFd), fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY | O_CLOEXEC);
          const now = fstatSync(fd);
          if (!now.isFile() || now.size === 0) {
            closeSync(fd);
            if (now.isFile()) await add({ ...headerOf(path, now, pax), type: 'file' });
            continue;
          }
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry({ ...headerOf(path, now, pax), type: 'file', size: now.size }, (err) => (err ? reject(err) : resolve()));
            sink.on('error', reject);
            // end: exactly the size in the header, even if the container is still writing to it.
            pipeline(createReadStream('', { fd, start: 0, end: now.size - 1 }), sink).catch(reject);
          });
        } finally {
          sys.close(pathFd);
        }
      } else if (st.isFIFO()) {
        await add({ ...headerOf(path, st, pax), type: 'fifo' });
      } else {
        await add({ ...headerOf(path, st, pax), type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(st.rdev), devminor: minor(st.rdev) });
      }
    }
  };
  if (upper !== undefined) {
    const top = sys.open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    try {
      await walk(top, '');
    } finally {
      sys.close(top);
    }
  }
  pack.finalize();
  await written;
}
