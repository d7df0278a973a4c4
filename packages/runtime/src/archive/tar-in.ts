import {
  chmodSync, chownSync, closeSync, fstatSync, linkSync, lchownSync, lstatSync, lutimesSync, openSync, readdirSync, rmdirSync,
  symlinkSync, unlinkSync, utimesSync, writeSync, constants as fsc, type Stats,
} from 'node:fs';
import { posix } from 'node:path';
import { O_CLOEXEC, O_DIRECTORY, S_IFBLK, S_IFCHR, S_IFIFO, isSyscallError, makedev, type Syscalls } from '@berth/syscall';
import * as tar from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { openEntry, openInRoot, splitPath, under } from './scope.js';

export interface ExtractOptions {
  /** `copyUIDGID=1` (`docker cp -a`): keep the archive's owners; otherwise everything becomes root:root. */
  copyUIDGID: boolean;
  /** `noOverwriteDirNonDir=1`: refuse to replace a directory with a non-directory or the reverse. */
  noOverwriteDirNonDir: boolean;
}

interface Meta {
  uid: number;
  gid: number;
  mode: number;
  mtime: Date;
  xattrs: [string, Buffer][];
}

function invalid(message: string): ArchiveError {
  return new ArchiveError('InvalidParameter', message);
}

/** An entry's name relative to the extraction directory; a name that climbs out is refused, as Docker's breakout check does. */
function entryParts(raw: string): string[] {
  if (raw.includes('\0')) throw invalid(`invalid tar header: entry ${JSON.stringify(raw)} contains a NUL byte`);
  const out: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw invalid(`invalid tar header: ${JSON.stringify(raw)} is outside of the extraction directory`);
      out.pop();
    } else out.push(part);
  }
  return out;
}

function metaOf(h: tar.Headers, copyOwners: boolean): Meta {
  const xattrs: [string, Buffer][] = [];
  for (const [key, value] of Object.entries(h.pax ?? {})) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.push([key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'utf8')]);
    else if (key.startsWith('LIBARCHIVE.xattr.')) xattrs.push([decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(value, 'base64')]);
  }
  const paxUid = h.pax?.['uid'];
  const paxGid = h.pax?.['gid'];
  return {
    uid: copyOwners ? (paxUid !== undefined ? Number(paxUid) : (h.uid ?? 0)) : 0,
    gid: copyOwners ? (paxGid !== undefined ? Number(paxGid) : (h.gid ?? 0)) : 0,
    mode: (h.mode ?? 0o644) & 0o7777,
    mtime: h.mtime ?? new Date(),
    xattrs,
  };
}

/**
 * Extracts a tar stream into a directory of a container, as `docker cp` into
 * a container does (moby's untar in a chroot of the container's root):
 * missing parents are made 0755, symlinks inside the container are followed
 * inside its root only, every final component is created relative to an fd on
 * its resolved parent without following it (O_EXCL, mkdirat, symlinkat), and
 * owners, modes and times go on through an fd of the created entry. A name or
 * a relative link target that climbs out of the destination is refused.
 */
export async function extractInto(sys: Syscalls, rootFd: number, destination: string, input: NodeJS.ReadableStream,
  opts: ExtractOptions): Promise<void> {
  const destParts = splitPath(destination);
  const extract = tar.extract();
  // Not pipeline(): a refusal must leave the request readable, so the
  // client gets its answer instead of a reset connection.
  input.pipe(extract);
  const onInputError = (error: Error): void => { extract.destroy(error); };
  input.on('error', onInputError);
  const dirs: { parts: string[]; meta: Meta }[] = [];

  /** An O_PATH fd on the directory `parts`, making the missing ones (0755, root-owned). */
  const ensureDir = (parts: string[]): number => {
    try {
      return openInRoot(sys, rootFd, parts, O_DIRECTORY);
    } catch (error) {
      if (!isSyscallError(error, 'ENOENT')) throw error;
    }
    const parent = ensureDir(parts.slice(0, -1));
    try {
      try {
        sys.mkdirat(parent, parts[parts.length - 1]!, 0o755);
      } catch (error) {
        if (!isSyscallError(error, 'EEXIST')) throw error;
      }
    } finally {
      sys.close(parent);
    }
    return openInRoot(sys, rootFd, parts, O_DIRECTORY);
  };

  const removeExisting = (parent: number, name: string, existing: Stats): void => {
    if (!existing.isDirectory()) {
      unlinkSync(under(parent, name));
      return;
    }
    const fd = openEntry(sys, parent, name);
    try {
      const dev = fstatSync(fd).dev;
      for (const child of readdirSync(under(fd))) {
        const st = lstatSync(under(fd, child));
        if (st.isDirectory() && st.dev !== dev) {
          throw new ArchiveError('Conflict', `cannot replace directory ${name}: a volume or bind is mounted below it`);
        }
        removeExisting(fd, child, st);
      }
    } finally {
      sys.close(fd);
    }
    rmdirSync(under(parent, name));
  };

  /** Owner, xattrs, mode, times, through an fd of the entry (never through a name that could be swapped). */
  const applyMeta = (parent: number, name: string, meta: Meta, symlink: boolean): void => {
    if (symlink) {
      lchownSync(under(parent, name), meta.uid, meta.gid);
      lutimesSync(under(parent, name), meta.mtime, meta.mtime);
      return;
    }
    const fd = openEntry(sys, parent, name);
    try {
      // Swapped for a symlink since it was made: leave it alone rather than touch what it names.
      if (fstatSync(fd).isSymbolicLink()) throw new ArchiveError('Conflict', `failed to extract archive: ${name} changed into a symlink during the copy`);
      // chown clears setuid/setgid and security.capability: mode and xattrs after it.
      chownSync(under(fd), meta.uid, meta.gid);
      for (const [key, value] of meta.xattrs) {
        if (key.startsWith('trusted.overlay.')) continue;
        sys.lsetxattr(under(parent, name), key, value, 0);
      }
      chmodSync(under(fd), meta.mode);
      utimesSync(under(fd), meta.mtime, meta.mtime);
    } finally {
      sys.close(fd);
    }
  };

  try {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = entryParts(h.name);
      const meta = metaOf(h, opts.copyUIDGID);
      if (rel.length === 0) {
        // The destination itself ("./"): it exists and keeps its own owner and mode.
        entry.resume();
        continue;
      }
      const name = rel[rel.length - 1]!;
      const parentParts = [...destParts, ...rel.slice(0, -1)];
      const parent = ensureDir(parentParts);
      try {
        const existing = lstatSync(under(parent, name), { throwIfNoEntry: false });
        const isDir = h.type === 'directory';
        if (existing) {
          if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) {
            throw new ArchiveError('Conflict', `cannot overwrite directory "${posix.join(destination, ...rel)}" with non-directory "${h.name}"`);
          }
          if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) {
            throw new ArchiveError('Conflict', `cannot overwrite non-directory "${posix.join(destination, ...rel)}" with directory "${h.name}"`);
          }
          if (!(existing.isDirectory() && isDir)) removeExisting(parent, name, existing);
        }
        switch (h.type) {
          case 'directory':
            if (!existing?.isDirectory()) sys.mkdirat(parent, name, 0o700);
            dirs.push({ parts: [...destParts, ...rel], meta });
            entry.resume();
            break;
          case 'file':
          case 'contiguous-file': {
            const fd = openSync(under(parent, name), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW | O_CLOEXEC, 0o600);
            try {
              for await (const chunk of entry) writeSync(fd, chunk as Buffer);
            } finally {
              closeSync(fd);
            }
            applyMeta(parent, name, meta, false);
            break;
          }
          case 'symlink': {
            const target = h.linkname ?? '';
            // moby's breakout check: a relative target may not climb out of the destination.
            if (!target.startsWith('/') && !within(destination, posix.join(destination, ...rel.slice(0, -1), target))) {
              throw invalid(`invalid symlink "${posix.join(destination, ...rel)}" -> "${target}"`);
            }
            symlinkSync(target, under(parent, name));
            applyMeta(parent, name, meta, true);
            entry.resume();
            break;
          }
          case 'link': {
            const linkParts = entryParts((h.linkname ?? '').replace(/^\/+/, ''));
            if (linkParts.length === 0) throw invalid(`invalid hardlink "${h.name}" -> "${h.linkname ?? ''}"`);
            const sourceParent = openInRoot(sys, rootFd, [...destParts, ...linkParts.slice(0, -1)], O_DIRECTORY);
            try {
              linkSync(under(sourceParent, linkParts[linkParts.length - 1]!), under(parent, name));
            } finally {
              sys.close(sourceParent);
            }
            entry.resume();
            break;
          }
          case 'character-device':
          case 'block-device':
          case 'fifo': {
            const kind = h.type === 'fifo' ? S_IFIFO : h.type === 'character-device' ? S_IFCHR : S_IFBLK;
            sys.mknodat(parent, name, kind | meta.mode, h.type === 'fifo' ? 0 : makedev(h.devmajor ?? 0, h.devminor ?? 0));
            applyMeta(parent, name, meta, false);
            entry.resume();
            break;
          }
          default:
            // pax global headers and the like carry nothing to create.
            entry.resume();
        }
      } finally {
        sys.close(parent);
      }
    }
  } catch (error) {
    input.unpipe(extract);
    extract.destroy();
    input.resume();
    input.off('error', onInputError);
    if (error instanceof ArchiveError) throw error;
    if (isSyscallError(error, 'EROFS') || (error as NodeJS.ErrnoException).code === 'EROFS') {
      throw new ArchiveError('Conflict', 'failed to extract archive: the destination is on a read-only file system', { cause: error });
    }
    if ((error as NodeJS.ErrnoException).code !== undefined && !isSyscallError(error)) {
      throw new ArchiveError('InvalidParameter', `failed to extract archive: ${(error as Error).message.replace(/\/proc\/self\/fd\/\d+\/?/g, '')}`, { cause: error });
    }
    if (isSyscallError(error)) throw new ArchiveError('InvalidParameter', `failed to extract archive: ${error.message}`, { cause: error });
    throw new ArchiveError('InvalidParameter', `failed to extract archive: ${(error as Error).message}`, { cause: error });
  }
  // Directory times last, deepest first: creating entries in them changed their mtimes.
  for (const { parts, meta } of dirs.reverse()) {
    const parent = openInRoot(sys, rootFd, parts.slice(0, -1), O_DIRECTORY);
    try {
      applyMeta(parent, parts[parts.length - 1]!, meta, false);
    } finally {
      sys.close(parent);
    }
  }
}

function within(dir: string, path: string): boolean {
  const rel = posix.relative(dir, path);
  return rel === '' || (!rel.startsWith('../') && rel !== '..' && !posix.isAbsolute(rel));
}
