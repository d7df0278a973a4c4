import { chmodSync, copyFileSync, constants as fsc, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AT_FDCWD, OVERLAY_OPAQUE_XATTR, type Syscalls } from '@berth/syscall';

type Stat = ReturnType<typeof lstatSync> & object;

function isWhiteout(st: Stat): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

function copyXattrs(sys: Syscalls, from: string, to: string): void {
  for (const name of sys.llistxattr(from)) {
    if (name.startsWith('trusted.overlay.')) continue;
    const value = sys.lgetxattr(from, name);
    if (value !== null) sys.lsetxattr(to, name, value, 0);
  }
}

function setMeta(sys: Syscalls, from: string, to: string, st: Stat): void {
  sys.lchown(to, Number(st.uid), Number(st.gid));
  if (!st.isSymbolicLink()) chmodSync(to, Number(st.mode) & 0o7777);
  copyXattrs(sys, from, to);
  lutimesSync(to, st.mtime, st.mtime);
}

/**
 * Applies one unpacked layer onto a full copy, as overlayfs would merge it:
 * whiteouts delete, opaque directories drop the lower content, directories
 * merge, anything else replaces. Only directories this function has just
 * checked with lstat are descended into, so a symlink in a lower layer is
 * replaced, never followed. Hardlinks within the layer stay hardlinks.
 */
export function applyLayerCopy(sys: Syscalls, layerDir: string, rootfs: string): void {
  const links = new Map<string, string>();
  const dirs: [string, string, Stat][] = [];
  const walk = (src: string, dst: string): void => {
    for (const name of readdirSync(src)) {
      const from = join(src, name);
      const to = join(dst, name);
      const st = lstatSync(from);
      const existing = lstatSync(to, { throwIfNoEntry: false });
      if (isWhiteout(st)) {
        if (existing) rmSync(to, { recursive: true, force: true });
        continue;
      }
      if (st.isDirectory()) {
        const opaque = sys.lgetxattr(from, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
        if (existing && (!existing.isDirectory() || opaque)) rmSync(to, { recursive: true, force: true });
        if (!existing || !existing.isDirectory() || opaque) mkdirSync(to, { mode: 0o700 });
        walk(from, to);
        dirs.push([from, to, st]);
        continue;
      }
      if (existing) {
        if (existing.isDirectory()) rmSync(to, { recursive: true, force: true });
        else unlinkSync(to);
      }
      const key = `${st.dev}:${st.ino}`;
      const first = Number(st.nlink) > 1 ? links.get(key) : undefined;
      if (first !== undefined) {
        linkSync(first, to);
        continue;
      }
      if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
      else if (st.isFile()) copyFileSync(from, to, fsc.COPYFILE_EXCL);
      else sys.mknodat(AT_FDCWD, to, Number(st.mode), Number(st.rdev));
      setMeta(sys, from, to, st);
      if (Number(st.nlink) > 1) links.set(key, to);
    }
  };
  walk(layerDir, rootfs);
  for (const [from, to, st] of dirs) setMeta(sys, from, to, st);
  const rootSt = lstatSync(layerDir);
  setMeta(sys, layerDir, rootfs, rootSt);
}

/** A full copy of an image's layers (bottom first) in `rootfs`, for the vfs driver. */
export function materialize(sys: Syscalls, layerDirs: readonly string[], rootfs: string): void {
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  for (const dir of layerDirs) applyLayerCopy(sys, dir, rootfs);
}
