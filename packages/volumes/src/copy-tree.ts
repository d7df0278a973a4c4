import * as fs from 'node:fs';
import * as path from 'node:path';
import { AT_FDCWD, S_IFMT, type Syscalls } from '@berth/syscall';
import { applyMeta, metaOf } from './attrs.js';

/**
 * Copy the content of `src` into the existing directory `dst`, keeping
 * owners, modes, mtimes, xattrs, symlinks, hardlinks, device nodes and FIFOs,
 * then give `dst` itself `src`'s owner, mode and xattrs (Docker's copy-up of
 * an image directory into an empty volume).
 *
 * Synchronous only (fs.*Sync and `sys`): the launch runs it on a worker
 * thread inside a mount namespace, where async fs would run in the host's.
 * Symlinks are copied as links, never followed; sockets are skipped.
 */
export function copyTree(src: string, dst: string, sys: Syscalls): void {
  const top = fs.lstatSync(src, { bigint: true });
  if (!top.isDirectory()) throw new Error(`failed to copy ${src}: not a directory`);
  const links = new Map<string, string>();
  copyChildren(src, dst, sys, links);
  const meta = metaOf(src, top, sys);
  applyMeta(dst, meta, false, sys);
}

function copyChildren(srcDir: string, dstDir: string, sys: Syscalls, links: Map<string, string>): void {
  for (const name of fs.readdirSync(srcDir)) {
    const s = path.join(srcDir, name);
    const d = path.join(dstDir, name);
    const st = fs.lstatSync(s, { bigint: true });
    if (st.isDirectory()) {
      if (!fs.existsSync(d)) fs.mkdirSync(d);
      copyChildren(s, d, sys, links);
      applyMeta(d, metaOf(s, st, sys), false, sys);
      continue;
    }
    if (st.isSocket()) continue;
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        fs.linkSync(first, d);
        continue;
      }
      links.set(key, d);
    }
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(s), d);
      applyMeta(d, metaOf(s, st, sys), true, sys);
      continue;
    }
    if (st.isFile()) {
      fs.copyFileSync(s, d);
    } else {
      // Character/block devices and FIFOs: Node cannot make them.
      sys.mknodat(AT_FDCWD, d, (Number(st.mode) & S_IFMT) | (Number(st.mode) & 0o7777), Number(st.rdev));
    }
    applyMeta(d, metaOf(s, st, sys), false, sys);
  }
}
