import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AT_FDCWD, AT_RECURSIVE, CLONE_FS, CLONE_NEWNS, LinuxSyscalls, MOUNT_ATTR_RDONLY, MS_BIND, MS_PRIVATE, MS_REC,
  MountTable, Namespaces, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, OVERLAY_OPAQUE_XATTR, PrivateMountNamespace,
  RESOLVE_BENEATH, RESOLVE_IN_ROOT, S_IFCHR, SyscallError, makedev,
} from '../../src/index.js';
import { describeRoot, hostMountTable } from '@berth/testing';

/**
 * Runs `fn` in a throwaway mount namespace on this thread, the same way a
 * launch worker does: save, unshare(CLONE_FS|CLONE_NEWNS), private tree,
 * then setns back whatever happens.
 */
function inThrowawayNamespace<T>(sys: LinuxSyscalls, fn: () => T): T {
  const ns = new Namespaces(sys);
  const saved = ns.save();
  try {
    sys.unshare(CLONE_FS | CLONE_NEWNS);
    try {
      sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
      return fn();
    } finally {
      ns.restore(saved);
    }
  } finally {
    ns.release(saved);
  }
}

describeRoot('@berth/syscall against the real kernel', () => {
  let sys: LinuxSyscalls;
  let dir: string;
  let before: string;

  beforeAll(() => {
    sys = new LinuxSyscalls();
    dir = mkdtempSync(join(tmpdir(), 'berth-syscall-'));
    before = hostMountTable();
  });
  afterAll(() => {
    // Every test leaves the host's mount table exactly as it found it.
    expect(hostMountTable()).toBe(before);
    rmSync(dir, { recursive: true, force: true });
  });

  it('mounts made inside a namespace never show in the host mount table', () => {
    const target = join(dir, 'tmpfs');
    mkdirSync(target);
    const inside = inThrowawayNamespace(sys, () => {
      sys.mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
      writeFileSync(join(target, 'f'), 'x');
      return readFileSync('/proc/thread-self/mountinfo', 'utf8');
    });
    expect(inside).toContain(target);
    expect(hostMountTable()).not.toContain(target);
    expect(hostMountTable()).toBe(before);
    expect(existsSync(join(target, 'f'))).toBe(false);
  });

  it('mounts an overlay whose merged view applies a whiteout made with mknodat', () => {
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(dir, 'ov', d)) as [string, string, string, string];
    for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
    writeFileSync(join(lower, 'kept'), 'lower');
    writeFileSync(join(lower, 'deleted'), 'lower');
    mkdirSync(join(lower, 'opaque'));
    writeFileSync(join(lower, 'opaque', 'hidden'), 'lower');
    sys.mknodat(AT_FDCWD, join(upper, 'deleted'), S_IFCHR, makedev(0, 0));
    mkdirSync(join(upper, 'opaque'));
    sys.lsetxattr(join(upper, 'opaque'), OVERLAY_OPAQUE_XATTR, Buffer.from('y'), 0);
    const st = statSync(join(upper, 'deleted'));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);

    const seen = inThrowawayNamespace(sys, () => {
      sys.mount('overlay', merged, 'overlay', 0, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
      return {
        kept: readFileSync(join(merged, 'kept'), 'utf8'),
        deleted: existsSync(join(merged, 'deleted')),
        hidden: existsSync(join(merged, 'opaque', 'hidden')),
      };
    });
    expect(seen).toEqual({ kept: 'lower', deleted: false, hidden: false });
  });

  it('makes a tree read-only recursively with mount_setattr, submounts included', () => {
    const top = join(dir, 'ro');
    mkdirSync(top);
    const result = inThrowawayNamespace(sys, () => {
      sys.mount('tmpfs', top, 'tmpfs', 0, null);
      mkdirSync(join(top, 'sub'));
      sys.mount('tmpfs', join(top, 'sub'), 'tmpfs', 0, null);
      sys.mountSetattr(AT_FDCWD, top, AT_RECURSIVE, { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, usernsFd: 0 });
      const attempt = (p: string) => {
        try { writeFileSync(p, 'x'); return 'ok'; } catch (e) { return (e as NodeJS.ErrnoException).code; }
      };
      return { top: attempt(join(top, 'a')), sub: attempt(join(top, 'sub', 'a')) };
    });
    expect(result).toEqual({ top: 'EROFS', sub: 'EROFS' });
  });

  it('resolves an absolute symlink inside the root with RESOLVE_IN_ROOT', () => {
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'container passwd');
    symlinkSync('/etc', join(root, 'data'));
    const rootFd = sys.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    try {
      const fd = sys.openat2(rootFd, 'data/passwd', { flags: O_RDONLY | O_CLOEXEC, mode: 0, resolve: RESOLVE_IN_ROOT });
      try {
        expect(readFileSync(`/proc/self/fd/${fd}`, 'utf8')).toBe('container passwd');
      } finally {
        sys.close(fd);
      }
    } finally {
      sys.close(rootFd);
    }
  });

  it('refuses an escaping path with RESOLVE_BENEATH (EXDEV)', () => {
    const root = join(dir, 'beneath');
    mkdirSync(root);
    const rootFd = sys.open(root, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    try {
      const deep = '../'.repeat(40) + 'etc/passwd';
      expect(() => sys.openat2(rootFd, deep, { flags: O_RDONLY, mode: 0, resolve: RESOLVE_BENEATH })).toThrowError(
        expect.objectContaining({ code: 'EXDEV', syscall: 'openat2' }) as SyscallError,
      );
    } finally {
      sys.close(rootFd);
    }
  });

  it('round-trips extended attributes, and reports a missing one as null', () => {
    const f = join(dir, 'xattr');
    writeFileSync(f, '');
    const value = Buffer.from([0, 1, 2, 255]);
    sys.lsetxattr(f, 'user.berth', value, 0);
    sys.lsetxattr(f, 'trusted.berth', Buffer.from('t'), 0);
    expect(sys.lgetxattr(f, 'user.berth')).toEqual(value);
    expect(sys.llistxattr(f).sort()).toEqual(['trusted.berth', 'user.berth']);
    expect(sys.lgetxattr(f, 'user.absent')).toBeNull();
  });

  it('binds inside berth\'s private namespace without the host seeing it', () => {
    const src = join(dir, 'bindsrc');
    const dst = join(dir, 'binddst');
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(join(src, 'f'), 'from source');
    const ns = PrivateMountNamespace.create(sys);
    try {
      ns.run(() => sys.mount(src, dst, null, MS_BIND, null));
      expect(ns.run(() => readFileSync(join(dst, 'f'), 'utf8'))).toBe('from source');
      expect(existsSync(join(dst, 'f'))).toBe(false);
      expect(hostMountTable()).toBe(before);
    } finally {
      ns.close();
    }
  });

  it('a MountTable reads mountinfo again only after a mount or an unmount in its namespace', () => {
    const target = join(dir, 'watched');
    mkdirSync(target);
    inThrowawayNamespace(sys, () => {
      // The thread's own table: opened inside the throwaway namespace, it watches that one.
      const table = new MountTable(sys, '/proc/thread-self/mountinfo');
      try {
        expect(table.reads).toBe(1);
        expect(table.under(target)).toEqual([]);
        expect(table.current().some((m) => m.mountPoint === '/')).toBe(true);
        expect(table.reads).toBe(1);
        sys.mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
        expect(table.under(target)).toEqual([target]);
        expect(table.reads).toBe(2);
        expect(table.under(dir)).toEqual([target]);
        expect(table.reads).toBe(2);
        sys.umount2(target, 0);
        expect(table.under(target)).toEqual([]);
        expect(table.reads).toBe(3);
      } finally {
        table.close();
      }
    });
  });
});

describe('SyscallError from the real kernel', () => {
  it('carries the call, errno name and path', () => {
    const sys = new LinuxSyscalls();
    try {
      sys.open('/nonexistent/berth', O_RDONLY, 0);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SyscallError);
      expect(error).toMatchObject({ syscall: 'open', code: 'ENOENT', paths: ['/nonexistent/berth'] });
    }
  });
});
