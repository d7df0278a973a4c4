import { readdirSync, readlinkSync, statSync } from 'node:fs';
import {
  AT_EMPTY_PATH, AT_RECURSIVE, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS, MOUNT_ATTR_RDONLY, MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH, MS_BIND, MS_PRIVATE, MS_REC, MS_SLAVE, O_CLOEXEC, O_DIRECTORY, O_PATH, OPEN_TREE_CLOEXEC,
  OPEN_TREE_CLONE, O_RDONLY, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, type Syscalls,
} from '@berth/syscall';
import { copyTree } from '@berth/volumes';
import type { LaunchPlan, PlannedMount } from '../plan/index.js';
import { setupDev, setupSystemMount } from './dev.js';
import { bringUpLoopback } from './network.js';
import { RootResolver, fdPath } from './resolve.js';

/**
 * Builds the container's tree on the calling thread (design.md steps 2–6):
 * enter berth's mount namespace, unshare the container's namespaces, make
 * everything private, mount the rootfs, /dev, /sys and the user mounts, set
 * the hostname and bring loopback up. Every mount lands in the new mount
 * namespace; the caller restores the thread afterwards, success or not.
 *
 * Only synchronous calls: async fs would run on libuv's threads, which are
 * still in the host's namespaces.
 */
export function buildContainerTree(sys: Syscalls, plan: LaunchPlan, berthNamespaceFd: number, spareNetFd?: number): void {
  sys.setns(berthNamespaceFd, CLONE_NEWNS);
  // A network namespace made ahead of time (loopback already up) saves the
  // most expensive part of the unshare on the launch's path.
  const warmNet = spareNetFd !== undefined && (plan.namespaces & CLONE_NEWNET) !== 0;
  sys.unshare(warmNet ? plan.namespaces & ~CLONE_NEWNET : plan.namespaces);
  if (warmNet) sys.setns(spareNetFd, CLONE_NEWNET);
  // Private, as Docker's rprivate; a slave of the host instead when a bind
  // asks for slave or shared propagation, so that its source's host mounts
  // still reach it (nothing propagates back: berth's namespace is a slave).
  const propagates = plan.mounts.some((m) => m.kind === 'bind' && m.propagation !== MS_PRIVATE);
  sys.mount(null, '/', null, MS_REC | (propagates ? MS_SLAVE : MS_PRIVATE), null);
  const { rootfs } = plan;
  if (rootfs.type === 'bind') sys.mount(rootfs.source, rootfs.target, null, MS_BIND | MS_REC, null);
  else sys.mount(rootfs.source, rootfs.target, rootfs.type, 0, rootfs.options.join(','));
  const root = new RootResolver(sys, rootfs.target);
  try {
    setupDev(sys, root, plan.dev);
    setupSystemMount(sys, root, plan.sys);
    // The init mounts /proc; it must be a real directory (CVE-2019-16884).
    sys.close(root.open(plan.proc.destination, 'dir', true));
    for (const mount of plan.mounts) applyMount(sys, root, mount);
  } finally {
    root.close();
  }
  if (plan.namespaces & CLONE_NEWUTS) sys.sethostname(plan.hostname);
  if ((plan.namespaces & CLONE_NEWNET) && !warmNet) bringUpLoopback(sys);
}

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

export function applyMount(sys: Syscalls, root: RootResolver, m: PlannedMount): void {
  if (m.kind === 'tmpfs') {
    const dest = root.open(m.destination, 'dir');
    try {
      sys.mount('tmpfs', fdPath(dest), 'tmpfs', m.flags, m.data);
    } finally {
      sys.close(dest);
    }
    return;
  }
  let source = sys.open(m.source, O_PATH | O_CLOEXEC | (m.sourceIsFile ? 0 : O_DIRECTORY), 0);
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
    if (m.copyUp) copyUp(sys, root, m);
    const dest = root.open(m.destination, isFile ? 'file' : 'dir');
    try {
      // A detached copy of the source gets its attributes before it is
      // attached, then goes onto the fd resolved inside the root: no path
      // string through the container's tree is ever mounted on.
      const tree = sys.openTree(source, '', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (m.recursive ? AT_RECURSIVE : 0));
      try {
        // The namespace is already private; only other modes cost a call.
        if (m.propagation !== MS_PRIVATE) {
          sys.mountSetattr(tree, '', AT_EMPTY_PATH | (m.propagationRecursive ? AT_RECURSIVE : 0), {
            attrSet: 0, attrClr: 0, propagation: m.propagation, usernsFd: 0,
          });
        }
        if (m.readOnly) {
          sys.mountSetattr(tree, '', AT_EMPTY_PATH | (m.recursiveReadOnly ? AT_RECURSIVE : 0), {
            attrSet: MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, usernsFd: 0,
          });
        }
        sys.moveMount(tree, '', dest, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
      } finally {
        sys.close(tree);
      }
    } finally {
      sys.close(dest);
    }
  } finally {
    sys.close(source);
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
