import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import {
  AT_EMPTY_PATH, AT_RECURSIVE, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS, MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH, MS_BIND, MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, O_CLOEXEC, O_DIRECTORY,
  O_PATH, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE, O_RDONLY, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, S_IFBLK, S_IFCHR,
  SyscallError, errnoNumber, isSyscallError, makedev, type Syscalls, type TreeAttach, type TreeClone,
} from '@berth/syscall';
import { copyTree } from '@berth/volumes';
import { BindSourceMissingError } from '../errors.js';
import type { LaunchPlan, PlannedDevice, PlannedMount } from '../plan/index.js';
import { setupDev, setupSystemMount } from './dev.js';
import { bringUpLoopback } from './network.js';
import { RootResolver, fdPath, pathInRoot } from './resolve.js';

/**
 * Builds the container's tree on the calling thread (design.md steps 2–6).
 *
 * Bind sources are cloned (open_tree, a detached copy) where they live,
 * before the thread leaves that namespace: host paths while the thread is
 * still in the host's namespace, so a bind shows the host as it is now
 * (berth's own namespace is a copy made at start-up and, with the host's `/`
 * private, never receives later host mounts); volumes after entering
 * berth's namespace (tmpfs- and device-backed volumes exist only there);
 * another container's /dev/shm inside that container's namespace. Then it
 * joins the namespaces the plan shares, unshares the rest, makes everything
 * private, mounts the rootfs, /dev, /sys and the user mounts, makes the
 * planned device nodes, sets the hostname and brings loopback up. Every
 * mount lands in the new mount namespace; the caller restores the thread
 * afterwards, success or not.
 *
 * Only synchronous calls: async fs would run on libuv's threads, which are
 * still in the host's namespaces.
 */
export function buildContainerTree(sys: Syscalls, plan: LaunchPlan, berthNamespaceFd: number, spareNetFd?: number): void {
  const trees: Array<DetachedTree | undefined> = plan.mounts.map(() => undefined);
  const joins: Array<{ fd: number; flag: number }> = [];
  let shmTree: number | undefined;
  try {
    // In the host's namespaces (the worker's home).
    detachAll(sys, plan.mounts, (m) => m.kind === 'bind' && m.type === 'bind', trees);
    for (const kind of JOIN_ORDER) {
      const path = plan.joinNamespaces[kind];
      if (path !== undefined) joins.push({ fd: sys.open(path, O_RDONLY | O_CLOEXEC, 0), flag: JOIN_FLAG[kind] });
    }
    if (plan.sharedShm) shmTree = detachShm(sys, plan.sharedShm.mountNamespace);

    sys.setns(berthNamespaceFd, CLONE_NEWNS);
    detachAll(sys, plan.mounts, (m) => m.kind === 'bind' && m.type !== 'bind', trees);
    for (const join of joins) sys.setns(join.fd, join.flag);
    // A network namespace made ahead of time (loopback already up) saves the
    // most expensive part of the unshare on the launch's path.
    const warmNet = spareNetFd !== undefined && (plan.namespaces & CLONE_NEWNET) !== 0;
    sys.unshare(warmNet ? plan.namespaces & ~CLONE_NEWNET : plan.namespaces);
    if (warmNet) sys.setns(spareNetFd, CLONE_NEWNET);
    // Private, as Docker's rprivate; a slave of the host instead when a bind
    // asks for slave or shared propagation, so that its source's host mounts
    // still reach it (nothing propagates back: berth's namespace is a slave).
    sys.mount(null, '/', null, MS_REC | (propagates(plan.mounts) ? MS_SLAVE : MS_PRIVATE), null);
    const { rootfs } = plan;
    if (rootfs.type === 'bind') sys.mount(rootfs.source, rootfs.target, null, MS_BIND | MS_REC, null);
    else sys.mount(rootfs.source, rootfs.target, rootfs.type, 0, rootfs.options.join(','));
    const root = new RootResolver(sys, rootfs.target);
    try {
      setupDev(sys, root, plan.dev);
      if (shmTree !== undefined) attach(sys, root, shmTree, '/dev/shm', false);
      setupSystemMount(sys, root, plan.sys);
      // The init mounts /proc; it must be a real directory (CVE-2019-16884).
      sys.close(root.open(plan.proc.destination, 'dir', true));
      applyUserMounts(sys, root, plan.mounts, trees);
      for (const device of plan.devices) makeDevice(sys, root, device);
    } finally {
      root.close();
    }
    if (plan.namespaces & CLONE_NEWUTS) sys.sethostname(plan.hostname);
    if ((plan.namespaces & CLONE_NEWNET) && !warmNet) bringUpLoopback(sys);
  } finally {
    for (const tree of trees) if (tree !== undefined) sys.close(tree.fd);
    for (const join of joins) sys.close(join.fd);
    if (shmTree !== undefined) sys.close(shmTree);
  }
}

/** Whether a bind asks for slave or shared propagation (the container's tree is then a slave of berth's, not private). */
export function propagates(mounts: readonly PlannedMount[]): boolean {
  return mounts.some((m) => m.kind === 'bind' && m.propagation !== MS_PRIVATE);
}

/**
 * A launch into a sandbox built ahead (sandbox.ts): the plan's mounts and
 * hostname go into the sandbox's namespaces (`mountNs`, `utsNs`), onto its
 * root at `rootTarget`, before its stub pivots. Sources are detached as
 * `buildContainerTree` does; the caller restores the thread afterwards.
 */
export function mountIntoSandbox(
  sys: Syscalls, plan: LaunchPlan, berthNamespaceFd: number, sandbox: { mountNs: number; utsNs: number; rootTarget: string },
): void {
  const trees: Array<DetachedTree | undefined> = plan.mounts.map(() => undefined);
  try {
    detachAll(sys, plan.mounts, (m) => m.kind === 'bind' && m.type === 'bind', trees);
    sys.setns(berthNamespaceFd, CLONE_NEWNS);
    detachAll(sys, plan.mounts, (m) => m.kind === 'bind' && m.type !== 'bind', trees);
    sys.setns(sandbox.mountNs, CLONE_NEWNS);
    sys.setns(sandbox.utsNs, CLONE_NEWUTS);
    const root = new RootResolver(sys, sandbox.rootTarget);
    try {
      applyUserMounts(sys, root, plan.mounts, trees);
    } finally {
      root.close();
    }
    sys.sethostname(plan.hostname);
  } finally {
    for (const tree of trees) if (tree !== undefined) sys.close(tree.fd);
  }
}

/**
 * The user mounts, in order: consecutive binds go in one batched call; a
 * tmpfs or a copy-up (which reads the tree as the mounts before it left it)
 * ends a batch.
 */
function applyUserMounts(sys: Syscalls, root: RootResolver, mounts: readonly PlannedMount[], trees: ReadonlyArray<DetachedTree | undefined>): void {
  const batch: PendingAttach[] = [];
  mounts.forEach((m, i) => {
    const tree = trees[i];
    if (tree === undefined) {
      attachAll(sys, root, batch);
      mountTmpfs(sys, root, m);
      return;
    }
    if (m.copyUp) {
      attachAll(sys, root, batch);
      copyUp(sys, root, m);
    }
    batch.push({ tree: tree.fd, destination: pathInRoot(m.destination), isFile: tree.isFile });
  });
  attachAll(sys, root, batch);
}

// Not the pid namespace: the shim joins that one for its child (`--pidns`), so the shim stays outside.
const JOIN_ORDER = ['ipc', 'uts', 'net'] as const;
const JOIN_FLAG = { ipc: CLONE_NEWIPC, uts: CLONE_NEWUTS, net: CLONE_NEWNET } as const;

/**
 * Makes a network namespace with loopback up on the calling thread and
 * returns an fd on it, leaving the thread in `homeNetFd`'s namespace. A
 * worker does this while idle, for its next launch.
 */
export function prepareNetworkNamespace(sys: Syscalls, homeNetFd: number): number {
  sys.unshare(CLONE_NEWNET);
  try {
    bringUpLoopback(sys);
    return sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC, 0);
  } finally {
    sys.setns(homeNetFd, CLONE_NEWNET);
  }
}

/**
 * One planned mount made in the calling thread's namespace, sources as it
 * sees them (a stopped container's throwaway view for `docker cp`: no
 * copy-up, nothing runs there).
 */
export function applyMount(sys: Syscalls, root: RootResolver, m: PlannedMount): void {
  if (m.kind === 'tmpfs') {
    mountTmpfs(sys, root, m);
    return;
  }
  const tree = detachSource(sys, m);
  try {
    attach(sys, root, tree.fd, m.destination, tree.isFile);
  } finally {
    sys.close(tree.fd);
  }
}

function mountTmpfs(sys: Syscalls, root: RootResolver, m: PlannedMount): void {
  const dest = root.open(m.destination, 'dir');
  try {
    sys.mount('tmpfs', fdPath(dest), 'tmpfs', m.flags, m.data);
  } finally {
    sys.close(dest);
  }
}

/**
 * A detached copy (open_tree) of a bind's or volume's source, as the calling
 * thread's namespace shows it, with its propagation and read-only attributes
 * set before it is attached anywhere.
 */
interface DetachedTree {
  fd: number;
  isFile: boolean;
}

function detachSource(sys: Syscalls, m: PlannedMount): DetachedTree {
  let source: number;
  try {
    source = sys.open(m.source, O_PATH | O_CLOEXEC | (m.sourceIsFile ? 0 : O_DIRECTORY), 0);
  } catch (error) {
    // The create-time check missed it (or it went away since): Docker's refusal, not a half-made container.
    if (m.type === 'bind' && isSyscallError(error, 'ENOENT')) throw new BindSourceMissingError(m.source);
    throw error;
  }
  try {
    let isFile = m.sourceIsFile;
    if (m.subpath !== undefined) {
      // A container may have planted symlinks in its volume: the subpath is
      // resolved beneath the volume and never through a symlink.
      const sub = sys.openat2(source, m.subpath, { flags: O_PATH | O_CLOEXEC, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS });
      sys.close(source);
      source = sub;
      isFile = !statSync(fdPath(source)).isDirectory();
    }
    const tree = sys.openTree(source, '', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (m.recursive ? AT_RECURSIVE : 0));
    try {
      // A copy of a shared host mount joins its peer group: set every
      // propagation explicitly, or a private bind would carry the
      // container's mounts back to the host. Only `shared` stays a peer.
      const shared = m.propagation === MS_SHARED;
      sys.mountSetattr(tree, '', AT_EMPTY_PATH | (shared && !m.propagationRecursive ? 0 : AT_RECURSIVE), {
        attrSet: 0, attrClr: 0, propagation: shared ? MS_SHARED : m.propagation === MS_SLAVE ? MS_SLAVE : MS_PRIVATE, usernsFd: 0,
      });
      if (m.readOnly) {
        sys.mountSetattr(tree, '', AT_EMPTY_PATH | (m.recursiveReadOnly ? AT_RECURSIVE : 0), {
          attrSet: MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, usernsFd: 0,
        });
      }
      return { fd: tree, isFile };
    } catch (error) {
      sys.close(tree);
      throw error;
    }
  } finally {
    sys.close(source);
  }
}

/**
 * A detached copy of /dev/shm: the host's (`--ipc host`), or the one inside
 * another container's mount namespace (`--ipc container:X`), resolved in
 * that container's root without following its symlinks. Leaves the thread
 * in that namespace; the caller enters berth's next.
 */
function detachShm(sys: Syscalls, mountNamespace: string | undefined): number {
  if (mountNamespace !== undefined) {
    const ns = sys.open(mountNamespace, O_RDONLY | O_CLOEXEC, 0);
    try {
      sys.setns(ns, CLONE_NEWNS);
    } finally {
      sys.close(ns);
    }
  }
  const root = sys.open('/', O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    const shm = sys.openat2(root, 'dev/shm', { flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS });
    try {
      const tree = sys.openTree(shm, '', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      try {
        sys.mountSetattr(tree, '', AT_EMPTY_PATH, { attrSet: 0, attrClr: 0, propagation: MS_PRIVATE, usernsFd: 0 });
        return tree;
      } catch (error) {
        sys.close(tree);
        throw error;
      }
    } finally {
      sys.close(shm);
    }
  } finally {
    sys.close(root);
  }
}

const ENOENT = errnoNumber('ENOENT');

/** The propagation and read-only attributes of a bind's detached copy (see `detachSource`). */
function cloneOf(m: PlannedMount): TreeClone {
  // A copy of a shared host mount joins its peer group: set every
  // propagation explicitly, or a private bind would carry the
  // container's mounts back to the host. Only `shared` stays a peer.
  const shared = m.propagation === MS_SHARED;
  return {
    source: m.source,
    recursive: m.recursive,
    propagation: shared ? MS_SHARED : m.propagation === MS_SLAVE ? MS_SLAVE : MS_PRIVATE,
    propagationRecursive: !(shared && !m.propagationRecursive),
    readOnly: m.readOnly,
    readOnlyRecursive: m.recursiveReadOnly,
  };
}

/**
 * Detached copies of the sources of the mounts `pick` selects, as the
 * calling thread's namespace shows them: one batched call (`cloneTrees`) for
 * all but subpath mounts, which are resolved one by one beneath their volume.
 */
function detachAll(sys: Syscalls, mounts: readonly PlannedMount[], pick: (m: PlannedMount) => boolean, trees: Array<DetachedTree | undefined>): void {
  const batch: number[] = [];
  mounts.forEach((m, i) => {
    if (!pick(m)) return;
    if (m.subpath !== undefined) trees[i] = detachSource(sys, m);
    else batch.push(i);
  });
  if (batch.length === 0) return;
  const made = sys.cloneTrees(batch.map((i) => cloneOf(mounts[i]!)));
  made.trees.forEach((fd, k) => {
    const i = batch[k]!;
    trees[i] = { fd, isFile: mounts[i]!.sourceIsFile };
  });
  if (made.errno === 0) return;
  const failed = mounts[batch[made.trees.length]!]!;
  // The create-time check missed it (or it went away since): Docker's refusal, not a half-made container.
  if (made.step === 'openTree' && failed.type === 'bind' && made.errno === ENOENT) throw new BindSourceMissingError(failed.source);
  throw new SyscallError(made.step === '' ? 'openTree' : made.step, made.errno, [failed.source]);
}

interface PendingAttach extends TreeAttach {
  isFile: boolean;
}

/**
 * Moves a batch of detached trees onto their destinations in one call
 * (`attachTrees`), taking them out of `batch`. A destination the image lacks
 * comes back as ENOENT (a return code, not a thrown error): it is made
 * through the root resolver, that tree attached there, and the batch goes
 * on after it.
 */
function attachAll(sys: Syscalls, root: RootResolver, batch: PendingAttach[]): void {
  const list = batch.splice(0, batch.length);
  let start = 0;
  while (start < list.length) {
    const done = sys.attachTrees(root.rootFd, list, start);
    if (done.errno === 0) break;
    const at = start + done.attached;
    const entry = list[at]!;
    if (done.step !== 'openat2' || done.errno !== ENOENT) {
      throw new SyscallError(done.step === '' ? 'moveMount' : done.step, done.errno, [entry.destination]);
    }
    attach(sys, root, entry.tree, entry.destination, entry.isFile);
    start = at + 1;
  }
}

/** Attaches a detached tree onto a destination resolved inside the root (never a path string through it). */
function attach(sys: Syscalls, root: RootResolver, tree: number, destination: string, isFile: boolean): void {
  const dest = root.open(destination, isFile ? 'file' : 'dir');
  try {
    sys.moveMount(tree, '', dest, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  } finally {
    sys.close(dest);
  }
}

/** A planned device node (`--device`, the host's with `--privileged`), made through its resolved parent. */
function makeDevice(sys: Syscalls, root: RootResolver, d: PlannedDevice): void {
  const name = posix.basename(d.path);
  const parent = root.open(posix.dirname(d.path), 'dir');
  try {
    try {
      sys.mknodat(parent, name, (d.type === 'c' ? S_IFCHR : S_IFBLK) | d.mode, makedev(d.major, d.minor));
    } catch (error) {
      // As runc: a node already there (the default /dev/null, say) stays.
      if (isSyscallError(error, 'EEXIST')) return;
      throw error;
    }
    // mknod honours the umask, which a worker thread cannot change.
    sys.fchmodat(parent, name, d.mode);
    if (d.uid !== 0 || d.gid !== 0) sys.lchown(`${fdPath(parent)}/${name}`, d.uid, d.gid);
  } finally {
    sys.close(parent);
  }
}

/** Docker's copy-up: an empty volume mounted over an image directory gets that directory's content. */
function copyUp(sys: Syscalls, root: RootResolver, m: PlannedMount): void {
  if (readdirSync(m.source).length > 0) return;
  let dest: number;
  try {
    dest = root.open(m.destination, undefined);
  } catch {
    return; // nothing in the image at that path
  }
  try {
    // Copy from the path the fd resolved to (inside this namespace's rootfs):
    // the copy walks it without following symlinks, and nothing runs in the
    // container yet that could swap it.
    if (statSync(fdPath(dest)).isDirectory()) copyTree(readlinkSync(fdPath(dest)), m.source, sys);
  } finally {
    sys.close(dest);
  }
}
