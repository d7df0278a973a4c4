/**
 * The kernel calls berth makes, as one table of typed signatures. Everything
 * that touches the kernel takes a `Syscalls` in its constructor: the real
 * one (`LinuxSyscalls`) in production and root tests, the recording double
 * (`@berth/syscall/testing`) in unit tests, which asserts the exact sequence.
 *
 * Each method throws `SyscallError` on failure and never returns -1.
 */

/** `struct mount_attr` for mount_setattr(2). */
export interface MountAttr {
  attrSet: number;
  attrClr: number;
  /** One of MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE, or 0 to leave it. */
  propagation: number;
  usernsFd: number;
}

/** `struct open_how` for openat2(2). */
export interface OpenHow {
  flags: number;
  mode: number;
  resolve: number;
}

/** How `spawn` sets up the child (posix_spawn file actions and attributes). */
export interface SpawnOptions {
  /** fds[i] becomes the child's fd i; every other fd not opened CLOEXEC is inherited too. */
  fds: readonly number[];
  /** Working directory of the child. */
  cwd: string;
  /** Start a new session (like a detached spawn). */
  setsid: boolean;
}

/**
 * One source of a batched mount list (`cloneTrees`): `source` cloned with
 * open_tree(AT_FDCWD, source, OPEN_TREE_CLONE, AT_RECURSIVE when
 * `recursive`; symlinks on the path followed, as open(2) does), then given `propagation` (recursively when
 * `propagationRecursive`) and, with `readOnly`, MOUNT_ATTR_RDONLY
 * (recursively when `readOnlyRecursive`).
 */
export interface TreeClone {
  source: string;
  recursive: boolean;
  propagation: number;
  propagationRecursive: boolean;
  readOnly: boolean;
  readOnlyRecursive: boolean;
}

/**
 * What `cloneTrees` made: one detached tree fd per entry, in order, up to the
 * entry that failed. `errno` 0: all made; otherwise entry `trees.length`
 * failed with it, at `step` (the call that failed), and nothing of it is left open.
 */
export interface CloneResult {
  trees: number[];
  errno: number;
  step: 'openTree' | 'mountSetattr' | '';
}

/** One entry of `attachTrees`: a detached tree and its destination, a path relative to the root fd. */
export interface TreeAttach {
  tree: number;
  destination: string;
}

/**
 * What `attachTrees` did from `start`: `attached` entries moved into place;
 * `errno` 0 when that was all of them, otherwise the entry at
 * `start + attached` stopped the batch (ENOENT: its destination is missing,
 * the caller makes it and goes on from there).
 */
export interface AttachResult {
  attached: number;
  errno: number;
  step: 'openat2' | 'moveMount' | '';
}

/** A waited-for child: exactly one of `code` and `signal` is set once it has exited. */
export interface WaitResult {
  /** 0 when the child has not changed state yet (WNOHANG). */
  pid: number;
  code: number | null;
  signal: number | null;
}

export interface SyscallSignatures {
  mount: {
    args: [source: string | null, target: string, fstype: string | null, flags: number, data: string | null];
    result: void;
  };
  umount2: { args: [target: string, flags: number]; result: void };
  unshare: { args: [flags: number]; result: void };
  setns: { args: [fd: number, nstype: number]; result: void };
  pivotRoot: { args: [newRoot: string, putOld: string]; result: void };
  chroot: { args: [path: string]; result: void };
  chdir: { args: [path: string]; result: void };
  fchdir: { args: [fd: number]; result: void };
  sethostname: { args: [name: string]; result: void };
  mountSetattr: { args: [dirfd: number, path: string, flags: number, attr: MountAttr]; result: void };
  openTree: { args: [dirfd: number, path: string, flags: number]; result: number };
  moveMount: {
    args: [fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number];
    result: void;
  };
  fsopen: { args: [fsname: string, flags: number]; result: number };
  fsconfig: { args: [fd: number, cmd: number, key: string | null, value: string | null, aux: number]; result: void };
  fsmount: { args: [fd: number, flags: number, attrFlags: number]; result: number };
  open: { args: [path: string, flags: number, mode: number]; result: number };
  openat2: { args: [dirfd: number, path: string, how: OpenHow]; result: number };
  /** openat2 that answers a failure with -errno instead of throwing: for lookups where ENOENT is expected. */
  tryOpenat2: { args: [dirfd: number, path: string, how: OpenHow]; result: number };
  /** A mount list's sources detached in one call (no JavaScript between the kernel calls); never throws for one entry. */
  cloneTrees: { args: [list: readonly TreeClone[]]; result: CloneResult };
  /** A mount list's detached trees moved onto destinations resolved in the root (RESOLVE_IN_ROOT), in one call. */
  attachTrees: { args: [rootFd: number, list: readonly TreeAttach[], start: number]; result: AttachResult };
  close: { args: [fd: number]; result: void };
  mkdirat: { args: [dirfd: number, path: string, mode: number]; result: void };
  symlinkat: { args: [target: string, dirfd: number, path: string]; result: void };
  fchmodat: { args: [dirfd: number, path: string, mode: number]; result: void };
  mknodat: { args: [dirfd: number, path: string, mode: number, dev: number]; result: void };
  lsetxattr: { args: [path: string, name: string, value: Uint8Array, flags: number]; result: void };
  /** Returns null when the attribute does not exist (ENODATA). */
  lgetxattr: { args: [path: string, name: string]; result: Buffer | null };
  llistxattr: { args: [path: string]; result: string[] };
  lchown: { args: [path: string, uid: number, gid: number]; result: void };
  pidfdOpen: { args: [pid: number, flags: number]; result: number };
  pidfdSendSignal: { args: [pidfd: number, signal: number]; result: void };
  prctl: { args: [option: number, arg2: number, arg3: number, arg4: number, arg5: number]; result: number };
  /**
   * malloc_trim(3) with no padding: glibc returns the free pages of every
   * malloc arena (one per thread that allocated) to the kernel. True when
   * memory was released. Not a system call, but libc, so it lives here.
   */
  mallocTrim: { args: []; result: boolean };
  /**
   * poll(2) of one fd for `events` (POLLIN, POLLPRI, ...), waiting at most
   * `timeoutMs` (0: only look): the revents, 0 when nothing happened.
   */
  poll: { args: [fd: number, events: number, timeoutMs: number]; result: number };
  socket: { args: [domain: number, type: number, protocol: number]; result: number };
  pipe2: { args: [flags: number]; result: [readFd: number, writeFd: number] };
  /** renameat2(2) with RENAME_EXCHANGE: two paths swap places atomically (both must exist). */
  renameExchange: { args: [from: string, to: string]; result: void };
  /** socketpair(2): two connected sockets (AF_UNIX with SOCK_SEQPACKET keeps message boundaries). */
  socketpair: { args: [domain: number, type: number, protocol: number]; result: [number, number] };
  /**
   * sendmsg(2) of one message with file descriptors attached (SCM_RIGHTS),
   * MSG_NOSIGNAL: a peer that is gone is EPIPE, never SIGPIPE. Returns the bytes sent.
   */
  sendFds: { args: [fd: number, data: Uint8Array, fds: readonly number[]]; result: number };
  /** memfd_create(2): an anonymous file; with MFD_ALLOW_SEALING it can be sealed (`addSeals`). */
  memfdCreate: { args: [name: string, flags: number]; result: number };
  /** fcntl(fd, F_ADD_SEALS, seals): F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE. */
  addSeals: { args: [fd: number, seals: number]; result: void };
  /**
   * posix_spawn(3): glibc clones with CLONE_VM|CLONE_VFORK, so the cost does
   * not grow with the parent's memory as fork's does. The child starts in the
   * calling thread's namespaces, with all signals at their defaults and none
   * blocked.
   */
  spawn: { args: [path: string, argv: readonly string[], envp: readonly string[], options: SpawnOptions]; result: number };
  waitpid: { args: [pid: number, options: number]; result: WaitResult };
  /** fallocate(2); with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE it frees a range's blocks and keeps the size. */
  fallocate: { args: [fd: number, mode: number, offset: number, length: number]; result: void };
  /** ioctl(2) whose argument is a buffer the kernel may read and write (e.g. struct ifreq). */
  ioctl: { args: [fd: number, request: number, arg: Buffer]; result: number };
  /** bpf(2) BPF_PROG_LOAD: `insns` are `struct bpf_insn`s (8 bytes each); returns the program's fd. */
  bpfProgLoad: { args: [progType: number, insns: Buffer, license: string, expectedAttachType: number]; result: number };
  /** bpf(2) BPF_PROG_ATTACH: attach a program to a target (a cgroup v2 directory's fd). */
  bpfProgAttach: { args: [targetFd: number, progFd: number, attachType: number, flags: number]; result: void };
}

export type SyscallName = keyof SyscallSignatures;
export type SyscallArgs<K extends SyscallName> = SyscallSignatures[K]['args'];
export type SyscallResult<K extends SyscallName> = SyscallSignatures[K]['result'];

export type Syscalls = {
  [K in SyscallName]: (...args: SyscallArgs<K>) => SyscallResult<K>;
};

/** One recorded call, discriminated by name, with its typed arguments. */
export type SyscallCall = { [K in SyscallName]: { name: K; args: SyscallArgs<K> } }[SyscallName];

export const SYSCALL_NAMES: readonly SyscallName[] = [
  'mount', 'umount2', 'unshare', 'setns', 'pivotRoot', 'chroot', 'chdir', 'fchdir', 'sethostname',
  'mountSetattr', 'openTree', 'moveMount', 'fsopen', 'fsconfig', 'fsmount', 'open', 'openat2', 'tryOpenat2',
  'cloneTrees', 'attachTrees', 'close',
  'mkdirat', 'symlinkat', 'fchmodat',
  'mknodat', 'lsetxattr', 'lgetxattr', 'llistxattr', 'lchown', 'pidfdOpen', 'pidfdSendSignal', 'prctl', 'mallocTrim', 'poll',
  'socket', 'ioctl', 'pipe2', 'socketpair', 'sendFds', 'renameExchange', 'memfdCreate', 'addSeals', 'spawn', 'waitpid', 'fallocate', 'bpfProgLoad', 'bpfProgAttach',
];
