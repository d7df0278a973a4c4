import { closeSync, fstatSync, openSync, constants as fsc, readdirSync, readlinkSync, read, statfsSync, type BigIntStats } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { O_CLOEXEC, major, minor, isSyscallError, type Syscalls } from '@berth/syscall';
import * as tar from 'tar-stream';
import { openEntry, under } from './scope.js';

/** ustar's 7-digit octal id fields hold at most 0o7777777; larger ids go in PAX records. */
const MAX_USTAR_ID = 0o777777;
const CHUNK = 64 * 1024;
/** statfs f_type of proc and sysfs. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572]);

function dirDev(fd: number): bigint {
  return fstatSync(fd, { bigint: true }).dev;
}

/** The root of what to archive: an O_PATH fd and where its name comes from. */
export interface ArchiveSource {
  /** O_PATH fd on the entry itself (a symlink is not followed). */
  fd: number;
  /** The top entry's name in the archive (`etc`, `.`, `/`, `hosts`). */
  name: string;
  /** Directory fd and name of the entry, to read its xattrs; absent for a directory named by `/.`. */
  parent?: { fd: number; name: string };
  /** `docker export`: the directory's contents under their own names (`bin/`, `bin/sh`), without a top entry. */
  contentsOnly?: boolean;
  /** The top entry's symlink target, read before the answer starts (so a link that vanishes is a 404, not a cut stream). */
  linkname?: string;
}

/**
 * A tar stream of one entry of a container's tree, as `docker cp` gets it:
 * the entry under its own name, a directory with everything below it. Every
 * step below the top is an fd-relative lookup that follows no symlink
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), file contents are read
 * through the fd that was looked at, and a file swapped for a FIFO or a
 * device is never opened for reading: nothing outside the container can be
 * reached by replacing a component during the copy (CVE-2018-15664).
 * Volumes and binds mounted below are crossed, as Docker does. `done` is
 * called once, when the stream has ended or failed.
 */
export function archiveTree(sys: Syscalls, source: ArchiveSource, done: () => void): Readable {
  const pack = tar.pack();
  const out = new PassThrough();
  let aborted = false;
  const links = new Map<string, string>();

  const header = (name: string, st: BigIntStats, xattrPath: string | undefined): tar.Headers => {
    const uid = Number(st.uid);
    const gid = Number(st.gid);
    const pax: Record<string, string> = {};
    if (uid > MAX_USTAR_ID) pax['uid'] = String(uid);
    if (gid > MAX_USTAR_ID) pax['gid'] = String(gid);
    // Docker's archives carry security.capability and no other xattr.
    if (xattrPath !== undefined && st.isFile()) {
      try {
        const cap = sys.lgetxattr(xattrPath, 'security.capability');
        if (cap !== null) pax['LIBARCHIVE.xattr.security.capability'] = cap.toString('base64');
      } catch (error) {
        // No xattrs here, or the name was changed since it was looked at (the entry then goes without).
        if (!['EOPNOTSUPP', 'ENOTSUP', 'ENOENT', 'ENOTDIR', 'ELOOP'].some((code) => isSyscallError(error, code))) throw error;
      }
    }
    return {
      name,
      mode: Number(st.mode) & 0o7777,
      uid: uid > MAX_USTAR_ID ? 0 : uid,
      gid: gid > MAX_USTAR_ID ? 0 : gid,
      mtime: new Date(Number(st.mtimeNs / 1_000_000_000n) * 1000),
      size: 0,
      pax: Object.keys(pax).length > 0 ? pax : null,
    };
  };

  // Every entry's sink gets an error listener: a client that goes away
  // destroys the pack, and an unheard 'error' would take the daemon down.
  const add = (h: tar.Headers): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      pack.entry(h, (err) => (err ? reject(err) : resolve())).on('error', reject);
    });

  /** Exactly `size` bytes of the file behind the O_PATH fd: cut if it grew, zero-padded if it shrank. */
  const addFile = async (h: tar.Headers, pathFd: number, size: number): Promise<void> => {
    // Reopened through the fd that was looked at, never by name; O_NONBLOCK so
    // that nothing can make the copy wait on a FIFO.
    const fd = openSync(under(pathFd), fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY | O_CLOEXEC);
    try {
      if (!fstatSync(fd).isFile()) throw new Error('a regular file changed into something else during the copy');
      let entry!: Writable;
      const finished = new Promise<void>((res, rej) => {
        entry = pack.entry({ ...h, size }, (err) => (err ? rej(err) : res())) as unknown as Writable;
        entry.on('error', rej);
      });
      // Awaited once the data is written; a failure before then must not count as unhandled.
      finished.catch(() => undefined);
      let offset = 0;
      let failed = false;
      const buf = Buffer.allocUnsafe(CHUNK);
      while (offset < size) {
        const want = Math.min(CHUNK, size - offset);
        // A read error once the header is out cannot drop the entry: the rest is zeros, as for a file that shrank.
        const n = failed ? 0 : await new Promise<number>((resolve) => read(fd, buf, 0, want, offset, (err, bytes) => {
          if (err) failed = true;
          resolve(err ? 0 : bytes);
        }));
        const chunk = n === 0 ? Buffer.alloc(want) : Buffer.from(buf.subarray(0, n));
        offset += chunk.length;
        if (aborted) throw new Error('the client went away');
        if (!entry.write(chunk)) {
          await new Promise<void>((resolve) => {
            const settle = (): void => {
              entry.off('drain', settle);
              entry.off('close', settle);
              entry.off('error', settle);
              resolve();
            };
            entry.on('drain', settle);
            entry.on('close', settle);
            entry.on('error', settle);
          });
        }
      }
      entry.end();
      await finished;
    } finally {
      closeSync(fd);
    }
  };

  const addEntry = async (name: string, pathFd: number, st: BigIntStats, where: { fd: number; name: string } | undefined,
    linkname?: string): Promise<boolean> => {
    const h = header(name, st, where ? under(where.fd, where.name) : undefined);
    if (st.isDirectory()) {
      await add({ ...h, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      return true;
    }
    if (st.isSocket()) return false;
    if (st.nlink > 1n && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        await add({ ...h, type: 'link', linkname: first });
        return false;
      }
      links.set(key, name);
    }
    if (st.isSymbolicLink()) {
      // readlink of the name in its directory (a lookup of one component that does not follow it).
      const target = linkname ?? (where ? readlinkSync(under(where.fd, where.name)) : '');
      await add({ ...h, type: 'symlink', linkname: target });
    } else if (st.isFile()) {
      await addFile(h, pathFd, Number(st.size));
    } else if (st.isFIFO()) {
      await add({ ...h, type: 'fifo' });
    } else {
      const dev = Number(st.rdev);
      await add({ ...h, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(dev), devminor: minor(dev) });
    }
    return false;
  };

  const walk = async (dirFd: number, prefix: string): Promise<void> => {
    const dev = dirDev(dirFd);
    for (const child of readdirSync(under(dirFd)).sort()) {
      if (aborted) throw new Error('the client went away');
      let fd: number;
      try {
        fd = openEntry(sys, dirFd, child);
      } catch (error) {
        if (isSyscallError(error, 'ENOENT')) continue; // removed meanwhile
        throw error;
      }
      const name = prefix === '/' ? `/${child}` : prefix === '' ? child : `${prefix}/${child}`;
      let descend = false;
      try {
        const st = fstatSync(fd, { bigint: true });
        descend = await addEntry(name, fd, st, { fd: dirFd, name: child });
        // A running container's /proc and /sys are the kernel's, not its files:
        // their mount points are copied, their pseudo-files are not (Docker's
        // copy never sees them either).
        if (descend && st.dev !== dev && PSEUDO_FS.has(statfsSync(under(fd)).type)) descend = false;
        if (descend) await walk(fd, name);
      } catch (error) {
        // As moby's archiver: an entry that cannot be read is left out, the rest still comes.
        if (aborted) throw error;
        if (!descend) console.error(`berth: docker cp: left out ${name}: ${(error as Error).message}`);
        else throw error;
      } finally {
        sys.close(fd);
      }
    }
  };

  const run = async (): Promise<void> => {
    if (source.contentsOnly) {
      await walk(source.fd, '');
      pack.finalize();
      return;
    }
    const st = fstatSync(source.fd, { bigint: true });
    const top = source.name === '/' ? '/' : source.name;
    if (await addEntry(top, source.fd, st, source.parent, source.linkname)) await walk(source.fd, top === '/' ? '/' : top);
    pack.finalize();
  };

  // The pack dies with its reader (a client that leaves): the walk stops on `aborted`, the error needs no other hearing.
  pack.on('error', () => { aborted = true; });
  pack.pipe(out);
  // The fds are released only once the walk has stopped using them: a
  // number closed early could be reused by another open and read instead.
  out.on('close', () => {
    if (out.readableEnded) return;
    aborted = true;
    pack.destroy();
  });
  run().catch((error: unknown) => {
    out.destroy(error as Error);
    pack.destroy();
  }).finally(done);
  return out;
}
