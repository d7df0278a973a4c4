import * as fs from 'node:fs';
import { isSyscallError, type Syscalls } from '@berth/syscall';

/** overlayfs' private attributes describe the layer, not the file; never copy them. */
const SKIPPED_XATTR_PREFIX = 'trusted.overlay.';

/** A file's metadata in the form both copy-up and tar import apply. */
export interface FileMeta {
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  perm: number;
  mtimeMs: number;
  xattrs: ReadonlyMap<string, Buffer>;
}

function unsupported(error: unknown): boolean {
  return isSyscallError(error, 'EOPNOTSUPP') || isSyscallError(error, 'ENOTSUP');
}

/** A file's extended attributes (not following symlinks), minus overlayfs' own. */
export function readXattrs(file: string, sys: Syscalls): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = sys.llistxattr(file);
  } catch (error) {
    if (unsupported(error)) return out;
    throw error;
  }
  for (const name of [...names].sort()) {
    if (name.startsWith(SKIPPED_XATTR_PREFIX)) continue;
    const value = sys.lgetxattr(file, name);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/**
 * Apply owner, mode, xattrs and mtime in the order the kernel requires:
 * chown clears setuid/setgid bits and security.capability, so mode and
 * xattrs come after it, and the mtime last (setting xattrs does not touch it).
 */
export function applyMeta(file: string, meta: FileMeta, isSymlink: boolean, sys: Syscalls): void {
  sys.lchown(file, meta.uid, meta.gid);
  if (!isSymlink) fs.chmodSync(file, meta.perm);
  for (const [name, value] of meta.xattrs) {
    if (name.startsWith(SKIPPED_XATTR_PREFIX)) continue;
    sys.lsetxattr(file, name, value, 0);
  }
  const t = meta.mtimeMs / 1000;
  fs.lutimesSync(file, t, t);
}

export function metaOf(file: string, st: fs.BigIntStats, sys: Syscalls): FileMeta {
  return {
    uid: Number(st.uid),
    gid: Number(st.gid),
    perm: Number(st.mode) & 0o7777,
    mtimeMs: Number(st.mtimeNs / 1_000_000n),
    xattrs: readXattrs(file, sys),
  };
}
