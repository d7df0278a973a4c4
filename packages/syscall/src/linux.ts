import { createRequire } from 'node:module';
import type {
  AttachResult, CloneResult, MountAttr, OpenHow, SpawnOptions, SyscallName, Syscalls, TreeAttach, TreeClone, WaitResult,
} from './signatures.js';
import { SyscallError } from './errors.js';

// koffi is CommonJS; load it once per thread, not per call.
const require = createRequire(import.meta.url);
const koffi = require('koffi') as typeof import('koffi');

const SYS_openat2 = 437; // glibc 2.36 has no wrapper (x86-64 number)
const SYS_bpf = 321; // x86-64
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const F_DUPFD_CLOEXEC = 1030;
const F_ADD_SEALS = 1033;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Opaque glibc structures, with room to spare: posix_spawn_file_actions_t is
// 80 bytes, posix_spawnattr_t 336, sigset_t 128 on x86-64.
const FILE_ACTIONS_SIZE = 128;
const SPAWNATTR_SIZE = 512;
const SIGSET_SIZE = 128;
const ENODATA = 61;
// The batched mount list's flags (constants.ts has them too; repeated here so the loop reads plain numbers).
const O_PATH_CLOEXEC = 0o10000000 | 0o2000000;
const OPEN_TREE_CLONE = 1;
const AT_FDCWD = -100;
const OPEN_TREE_CLOEXEC = 0o2000000;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const MOUNT_ATTR_RDONLY = 0x1;
const RESOLVE_IN_ROOT = 0x10;
const MOVE_MOUNT_EMPTY_PATHS = 0x04 | 0x40; // MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
const ERANGE = 34;
const SOL_SOCKET = 1;
const RENAME_EXCHANGE = 2;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;

/* eslint-disable @typescript-eslint/no-explicit-any -- koffi's bound functions are untyped */
interface Libc {
  mount: any; umount2: any; unshare: any; setns: any; pivot_root: any; chroot: any; chdir: any;
  fchdir: any; sethostname: any; mount_setattr: any; open_tree: any; move_mount: any; fsopen: any;
  fsconfig: any; fsmount: any; open: any; syscall: any; close: any; mkdirat: any; symlinkat: any; fchmodat: any; mknodat: any; lsetxattr: any;
  lgetxattr: any; llistxattr: any; lchown: any; pidfd_open: any; pidfd_send_signal: any; prctl: any; malloc_trim: any; poll: any;
  socket: any; ioctl: any; memfd_create: any; fallocate: any; pipe2: any; socketpair: any; sendmsg: any; renameat2: any; waitpid: any; fcntl: any; posix_spawn: any; fa_init: any; fa_dup2: any;
  fa_chdir: any; fa_destroy: any; attr_init: any; attr_setflags: any; attr_setsigmask: any; attr_setsigdefault: any;
  attr_destroy: any; sigemptyset: any; sigfillset: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

let libc: Libc | undefined;

function bind(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  koffi.struct('berth_mount_attr', { attr_set: 'uint64', attr_clr: 'uint64', propagation: 'uint64', userns_fd: 'uint64' });
  koffi.struct('berth_open_how', { flags: 'uint64', mode: 'uint64', resolve: 'uint64' });
  // The leading fields of union bpf_attr for each command (the kernel zero-fills the rest).
  koffi.struct('berth_bpf_prog_load', {
    prog_type: 'uint32', insn_cnt: 'uint32', insns: 'void *', license: 'const char *', log_level: 'uint32', log_size: 'uint32',
    log_buf: 'void *', kern_version: 'uint32', prog_flags: 'uint32', prog_name: koffi.array('char', 16), prog_ifindex: 'uint32',
    expected_attach_type: 'uint32',
  });
  koffi.struct('berth_bpf_prog_attach', {
    target_fd: 'uint32', attach_bpf_fd: 'uint32', attach_type: 'uint32', attach_flags: 'uint32', replace_bpf_fd: 'uint32',
  });
  koffi.struct('berth_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('berth_msghdr', {
    name: 'void *', namelen: 'uint32', iov: 'berth_iovec *', iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int',
  });
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
    malloc_trim: lib.func('int malloc_trim(size_t pad)'),
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    renameat2: lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
    sendmsg: lib.func('intptr_t sendmsg(int fd, const berth_msghdr *msg, int flags)'),
    memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
    fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    fa_init: lib.func('int posix_spawn_file_actions_init(void *actions)'),
    fa_dup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    fa_chdir: lib.func('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
    fa_destroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
    attr_init: lib.func('int posix_spawnattr_init(void *attr)'),
    attr_setflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    attr_setsigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
    attr_setsigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    attr_destroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    sigemptyset: lib.func('int sigemptyset(void *set)'),
    sigfillset: lib.func('int sigfillset(void *set)'),
  };
  return libc;
}

function check(result: number | bigint, syscall: SyscallName, paths: readonly string[] = []): number {
  const value = Number(result);
  if (value === -1) throw new SyscallError(syscall, koffi.errno(), paths);
  return value;
}

/** posix_spawn and its helpers return the error number instead of setting errno. */
function spawnCheck(result: number, paths: readonly string[]): void {
  if (result !== 0) throw new SyscallError('spawn', result, paths);
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
  tryOpenat2(dirfd: number, path: string, how: OpenHow): number {
    const raw = { flags: how.flags, mode: how.mode, resolve: how.resolve };
    const fd = Number(this.c.syscall(SYS_openat2, 'int', dirfd, 'const char *', path, 'berth_open_how *', raw, 'size_t', 24));
    return fd === -1 ? -koffi.errno() : fd;
  }
  // The two batched calls below are the mount list's hot loop: plain koffi
  // calls on reused argument objects, errors as numbers, nothing thrown.
  cloneTrees(list: readonly TreeClone[]): CloneResult {
    const c = this.c;
    const trees: number[] = [];
    const attr = { attr_set: 0, attr_clr: 0, propagation: 0, userns_fd: 0 };
    for (const m of list) {
      // open_tree on the path itself: no O_PATH fd to open and close first (it follows symlinks as open does).
      const tree = c.open_tree(AT_FDCWD, m.source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0)) as number;
      if (tree === -1) return { trees, errno: koffi.errno(), step: 'openTree' };
      attr.attr_set = 0;
      attr.propagation = m.propagation;
      let failed = c.mount_setattr(tree, '', AT_EMPTY_PATH | (m.propagationRecursive ? AT_RECURSIVE : 0), attr, 32) === -1;
      if (!failed && m.readOnly) {
        attr.attr_set = MOUNT_ATTR_RDONLY;
        attr.propagation = 0;
        failed = c.mount_setattr(tree, '', AT_EMPTY_PATH | (m.readOnlyRecursive ? AT_RECURSIVE : 0), attr, 32) === -1;
      }
      if (failed) {
        const errno = koffi.errno();
        c.close(tree);
        return { trees, errno, step: 'mountSetattr' };
      }
      trees.push(tree);
    }
    return { trees, errno: 0, step: '' };
  }
  attachTrees(rootFd: number, list: readonly TreeAttach[], start: number): AttachResult {
    const c = this.c;
    const how = { flags: O_PATH_CLOEXEC, mode: 0, resolve: RESOLVE_IN_ROOT };
    for (let i = start; i < list.length; i++) {
      const m = list[i]!;
      const dest = Number(c.syscall(SYS_openat2, 'int', rootFd, 'const char *', m.destination, 'berth_open_how *', how, 'size_t', 24));
      if (dest === -1) return { attached: i - start, errno: koffi.errno(), step: 'openat2' };
      const moved = c.move_mount(m.tree, '', dest, '', MOVE_MOUNT_EMPTY_PATHS) as number;
      const errno = moved === -1 ? koffi.errno() : 0;
      c.close(dest);
      if (moved === -1) return { attached: i - start, errno, step: 'moveMount' };
    }
    return { attached: list.length - start, errno: 0, step: '' };
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
  mallocTrim(): boolean {
    // glibc's malloc_trim(0): every arena (each thread's too) returns its free pages to the kernel. It cannot fail.
    return this.c.malloc_trim(0) === 1;
  }
  poll(fd: number, events: number, timeoutMs: number): number {
    // struct pollfd: int fd, short events, short revents.
    const pollfd = Buffer.alloc(8);
    pollfd.writeInt32LE(fd, 0);
    pollfd.writeInt16LE(events, 4);
    check(this.c.poll(pollfd, 1, timeoutMs), 'poll');
    return pollfd.readUInt16LE(6);
  }
  socket(domain: number, type: number, protocol: number): number {
    return check(this.c.socket(domain, type, protocol), 'socket');
  }
  ioctl(fd: number, request: number, arg: Buffer): number {
    return check(this.c.ioctl(fd, request, 'void *', arg), 'ioctl');
  }
  bpfProgLoad(progType: number, insns: Buffer, license: string, expectedAttachType: number): number {
    const attr = {
      prog_type: progType, insn_cnt: insns.length / 8, insns, license, log_level: 0, log_size: 0, log_buf: null, kern_version: 0,
      prog_flags: 0, prog_name: 'berth', prog_ifindex: 0, expected_attach_type: expectedAttachType,
    };
    return check(this.c.syscall(SYS_bpf, 'int', BPF_PROG_LOAD, 'berth_bpf_prog_load *', attr, 'unsigned int', koffi.sizeof('berth_bpf_prog_load')), 'bpfProgLoad');
  }
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
    const attr = { target_fd: targetFd, attach_bpf_fd: progFd, attach_type: attachType, attach_flags: flags, replace_bpf_fd: 0 };
    check(this.c.syscall(SYS_bpf, 'int', BPF_PROG_ATTACH, 'berth_bpf_prog_attach *', attr, 'unsigned int', koffi.sizeof('berth_bpf_prog_attach')), 'bpfProgAttach');
  }
  fallocate(fd: number, mode: number, offset: number, length: number): void {
    check(this.c.fallocate(fd, mode, offset, length), 'fallocate');
  }
  pipe2(flags: number): [number, number] {
    const fds = [0, 0];
    check(this.c.pipe2(fds, flags), 'pipe2');
    return [fds[0]!, fds[1]!];
  }
  renameExchange(from: string, to: string): void {
    check(this.c.renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE), 'renameExchange', [from, to]);
  }
  socketpair(domain: number, type: number, protocol: number): [number, number] {
    const fds = [0, 0];
    check(this.c.socketpair(domain, type, protocol, fds), 'socketpair');
    return [fds[0]!, fds[1]!];
  }
  sendFds(fd: number, data: Uint8Array, fds: readonly number[]): number {
    // One struct cmsghdr (len, level, type: 16 bytes on x86-64) and the fds, padded to 8 (CMSG_SPACE).
    const control = Buffer.alloc(16 + Math.ceil((4 * fds.length) / 8) * 8);
    control.writeBigUInt64LE(BigInt(16 + 4 * fds.length), 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((n, i) => control.writeInt32LE(n, 16 + 4 * i));
    const msg = {
      name: null, namelen: 0, iov: { base: data, len: data.length }, iovlen: 1,
      control: fds.length > 0 ? control : null, controllen: fds.length > 0 ? control.length : 0, flags: 0,
    };
    return check(this.c.sendmsg(fd, msg, MSG_NOSIGNAL), 'sendFds');
  }
  memfdCreate(name: string, flags: number): number {
    return check(this.c.memfd_create(name, flags), 'memfdCreate', [name]);
  }
  addSeals(fd: number, seals: number): void {
    check(this.c.fcntl(fd, F_ADD_SEALS, 'int', seals), 'addSeals');
  }
  waitpid(pid: number, options: number): WaitResult {
    const status = [0];
    const got = check(this.c.waitpid(pid, status, options), 'waitpid', [String(pid)]);
    const raw = status[0]!;
    if (got === 0) return { pid: 0, code: null, signal: null };
    // WIFEXITED: low 7 bits zero; WTERMSIG otherwise.
    return (raw & 0x7f) === 0 ? { pid: got, code: (raw >> 8) & 0xff, signal: null } : { pid: got, code: null, signal: raw & 0x7f };
  }
  spawn(path: string, argv: readonly string[], envp: readonly string[], options: SpawnOptions): number {
    const c = this.c;
    const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
    const attr = Buffer.alloc(SPAWNATTR_SIZE);
    const mask = Buffer.alloc(SIGSET_SIZE);
    const all = Buffer.alloc(SIGSET_SIZE);
    const temporary: number[] = [];
    c.fa_init(actions);
    c.attr_init(attr);
    try {
      // A source fd that is also a lower target would be clobbered by an
      // earlier dup2: move such sources above every target first.
      const sources = options.fds.map((fd, target) => {
        if (fd >= options.fds.length || fd === target) return fd;
        const high = check(c.fcntl(fd, F_DUPFD_CLOEXEC, 'int', options.fds.length), 'spawn');
        temporary.push(high);
        return high;
      });
      sources.forEach((fd, target) => spawnCheck(c.fa_dup2(actions, fd, target), [path]));
      spawnCheck(c.fa_chdir(actions, options.cwd), [options.cwd]);
      c.sigemptyset(mask);
      c.sigfillset(all);
      spawnCheck(c.attr_setsigmask(attr, mask), [path]);
      spawnCheck(c.attr_setsigdefault(attr, all), [path]);
      const flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (options.setsid ? POSIX_SPAWN_SETSID : 0);
      spawnCheck(c.attr_setflags(attr, flags), [path]);
      const pid = [0];
      spawnCheck(c.posix_spawn(pid, path, actions, attr, [...argv, null], [...envp, null]), [path]);
      return pid[0]!;
    } finally {
      c.fa_destroy(actions);
      c.attr_destroy(attr);
      for (const fd of temporary) c.close(fd);
    }
  }
}
