import { createRequire } from 'node:module';
import type { MountAttr, OpenHow, SyscallName, Syscalls } from './signatures.js';
import { SyscallError } from './errors.js';

// koffi is CommonJS; load it once per thread, not per call.
const require = createRequire(import.meta.url);
const koffi = require('koffi') as typeof import('koffi');

const SYS_openat2 = 437; // glibc 2.36 has no wrapper (x86-64 number)
const ENODATA = 61;
const ERANGE = 34;

/* eslint-disable @typescript-eslint/no-explicit-any -- koffi's bound functions are untyped */
interface Libc {
  mount: any; umount2: any; unshare: any; setns: any; pivot_root: any; chroot: any; chdir: any;
  fchdir: any; sethostname: any; mount_setattr: any; open_tree: any; move_mount: any; fsopen: any;
  fsconfig: any; fsmount: any; open: any; syscall: any; close: any; mkdirat: any; symlinkat: any; fchmodat: any; mknodat: any; lsetxattr: any;
  lgetxattr: any; llistxattr: any; lchown: any; pidfd_open: any; pidfd_send_signal: any; prctl: any;
  socket: any; ioctl: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

let libc: Libc | undefined;

function bind(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  koffi.struct('berth_mount_attr', { attr_set: 'uint64', attr_clr: 'uint64', propagation: 'uint64', userns_fd: 'uint64' });
  koffi.struct('berth_open_how', { flags: 'uint64', mode: 'uint64', resolve: 'uint64' });
  libc = {
    mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    unshare: lib.func('int unshare(int flags)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    pivot_root: lib.func('int pivot_root(const char *new_root, const char *put_old)'),
    chroot: lib.func('int chroot(const char *path)'),
    chdir: lib.func('int chdir(const char *path)'),
    fchdir: lib.func('int fchdir(int fd)'),
    sethostname: lib.func('int sethostname(const char *name, size_t len)'),
    mount_setattr: lib.func('int mount_setattr(int dirfd, const char *path, unsigned int flags, berth_mount_attr *attr, size_t size)'),
    open_tree: lib.func('int open_tree(int dirfd, const char *path, unsigned int flags)'),
    move_mount: lib.func('int move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags)'),
    fsopen: lib.func('int fsopen(const char *fsname, unsigned int flags)'),
    fsconfig: lib.func('int fsconfig(int fd, unsigned int cmd, const char *key, const char *value, int aux)'),
    fsmount: lib.func('int fsmount(int fd, unsigned int flags, unsigned int attr_flags)'),
    open: lib.func('int open(const char *path, int flags, ...)'),
    syscall: lib.func('long syscall(long number, ...)'),
    close: lib.func('int close(int fd)'),
    mkdirat: lib.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
    symlinkat: lib.func('int symlinkat(const char *target, int dirfd, const char *path)'),
    fchmodat: lib.func('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)'),
    mknodat: lib.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    lchown: lib.func('int lchown(const char *path, uint32_t uid, uint32_t gid)'),
    pidfd_open: lib.func('int pidfd_open(int pid, unsigned int flags)'),
    pidfd_send_signal: lib.func('int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)'),
    prctl: lib.func('int prctl(int option, ...)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
  };
  return libc;
}

function check(result: number | bigint, syscall: SyscallName, paths: readonly string[] = []): number {
  const value = Number(result);
  if (value === -1) throw new SyscallError(syscall, koffi.errno(), paths);
  return value;
}

/**
 * The real kernel, through koffi and glibc. Every call is synchronous: between
 * unshare and setns a worker thread must not use libuv's threadpool, whose
 * threads stay in the host's namespaces (design.md).
 */
export class LinuxSyscalls implements Syscalls {
  private readonly c: Libc = bind();

  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
    check(this.c.mount(source, target, fstype, flags, data), 'mount', source ? [source, target] : [target]);
  }
  umount2(target: string, flags: number): void {
    check(this.c.umount2(target, flags), 'umount2', [target]);
  }
  unshare(flags: number): void {
    check(this.c.unshare(flags), 'unshare');
  }
  setns(fd: number, nstype: number): void {
    check(this.c.setns(fd, nstype), 'setns');
  }
  pivotRoot(newRoot: string, putOld: string): void {
    check(this.c.pivot_root(newRoot, putOld), 'pivotRoot', [newRoot, putOld]);
  }
  chroot(path: string): void {
    check(this.c.chroot(path), 'chroot', [path]);
  }
  chdir(path: string): void {
    check(this.c.chdir(path), 'chdir', [path]);
  }
  fchdir(fd: number): void {
    check(this.c.fchdir(fd), 'fchdir');
  }
  sethostname(name: string): void {
    check(this.c.sethostname(name, Buffer.byteLength(name)), 'sethostname');
  }
  mountSetattr(dirfd: number, path: string, flags: number, attr: MountAttr): void {
    const raw = { attr_set: attr.attrSet, attr_clr: attr.attrClr, propagation: attr.propagation, userns_fd: attr.usernsFd };
    check(this.c.mount_setattr(dirfd, path, flags, raw, 32), 'mountSetattr', [path]);
  }
  openTree(dirfd: number, path: string, flags: number): number {
    return check(this.c.open_tree(dirfd, path, flags), 'openTree', [path]);
  }
  moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void {
    check(this.c.move_mount(fromDirfd, fromPath, toDirfd, toPath, flags), 'moveMount', [fromPath, toPath]);
  }
  fsopen(fsname: string, flags: number): number {
    return check(this.c.fsopen(fsname, flags), 'fsopen', [fsname]);
  }
  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): void {
    check(this.c.fsconfig(fd, cmd, key, value, aux), 'fsconfig', key ? [key] : []);
  }
  fsmount(fd: number, flags: number, attrFlags: number): number {
    return check(this.c.fsmount(fd, flags, attrFlags), 'fsmount');
  }
  open(path: string, flags: number, mode: number): number {
    return check(this.c.open(path, flags, 'uint32', mode), 'open', [path]);
  }
  openat2(dirfd: number, path: string, how: OpenHow): number {
    const raw = { flags: how.flags, mode: how.mode, resolve: how.resolve };
    return check(
      this.c.syscall(SYS_openat2, 'int', dirfd, 'const char *', path, 'berth_open_how *', raw, 'size_t', 24),
      'openat2',
      [path],
    );
  }
  close(fd: number): void {
    check(this.c.close(fd), 'close');
  }
  mkdirat(dirfd: number, path: string, mode: number): void {
    check(this.c.mkdirat(dirfd, path, mode), 'mkdirat', [path]);
  }
  symlinkat(target: string, dirfd: number, path: string): void {
    check(this.c.symlinkat(target, dirfd, path), 'symlinkat', [path, target]);
  }
  fchmodat(dirfd: number, path: string, mode: number): void {
    check(this.c.fchmodat(dirfd, path, mode, 0), 'fchmodat', [path]);
  }
  mknodat(dirfd: number, path: string, mode: number, dev: number): void {
    check(this.c.mknodat(dirfd, path, mode, dev), 'mknodat', [path]);
  }
  lsetxattr(path: string, name: string, value: Uint8Array, flags: number): void {
    check(this.c.lsetxattr(path, name, value, value.byteLength, flags), 'lsetxattr', [path, name]);
  }
  lgetxattr(path: string, name: string): Buffer | null {
    // Size first, then read; retry if the value grew in between (ERANGE).
    for (;;) {
      const size = Number(this.c.lgetxattr(path, name, null, 0));
      if (size === -1) {
        if (koffi.errno() === ENODATA) return null;
        throw new SyscallError('lgetxattr', koffi.errno(), [path, name]);
      }
      const buf = Buffer.alloc(size);
      const got = Number(this.c.lgetxattr(path, name, buf, size));
      if (got === -1 && koffi.errno() === ERANGE) continue;
      check(got, 'lgetxattr', [path, name]);
      return buf.subarray(0, got);
    }
  }
  llistxattr(path: string): string[] {
    for (;;) {
      const size = check(this.c.llistxattr(path, null, 0), 'llistxattr', [path]);
      if (size === 0) return [];
      const buf = Buffer.alloc(size);
      const got = Number(this.c.llistxattr(path, buf, size));
      if (got === -1 && koffi.errno() === ERANGE) continue;
      check(got, 'llistxattr', [path]);
      return buf.subarray(0, got).toString('utf8').split('\0').filter((n) => n.length > 0);
    }
  }
  lchown(path: string, uid: number, gid: number): void {
    check(this.c.lchown(path, uid, gid), 'lchown', [path]);
  }
  pidfdOpen(pid: number, flags: number): number {
    return check(this.c.pidfd_open(pid, flags), 'pidfdOpen', [String(pid)]);
  }
  pidfdSendSignal(pidfd: number, signal: number): void {
    check(this.c.pidfd_send_signal(pidfd, signal, null, 0), 'pidfdSendSignal');
  }
  prctl(option: number, arg2: number, arg3: number, arg4: number, arg5: number): number {
    return check(
      this.c.prctl(option, 'unsigned long', arg2, 'unsigned long', arg3, 'unsigned long', arg4, 'unsigned long', arg5),
      'prctl',
    );
  }
  socket(domain: number, type: number, protocol: number): number {
    return check(this.c.socket(domain, type, protocol), 'socket');
  }
  ioctl(fd: number, request: number, arg: Buffer): number {
    return check(this.c.ioctl(fd, request, 'void *', arg), 'ioctl');
  }
}
