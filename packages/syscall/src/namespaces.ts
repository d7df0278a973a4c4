import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, O_CLOEXEC, O_RDONLY,
} from './constants.js';
import type { Syscalls } from './signatures.js';

export const NAMESPACE_KINDS = ['mnt', 'uts', 'ipc', 'net', 'pid'] as const;
export type NamespaceKind = (typeof NAMESPACE_KINDS)[number];

const CLONE_FLAG: Record<NamespaceKind, number> = {
  mnt: CLONE_NEWNS, uts: CLONE_NEWUTS, ipc: CLONE_NEWIPC, net: CLONE_NEWNET, pid: CLONE_NEWPID,
};

/** Open fds on a thread's namespaces, taken before it unshares. */
export type SavedNamespaces = Readonly<Record<NamespaceKind, number>>;

/**
 * Saves and restores one thread's namespaces. `unshare` on a worker thread
 * affects that thread only (with CLONE_FS), so a pooled thread saves its
 * namespaces once, and after each launch `setns`es back into every one of
 * them. setns on the mount namespace also resets root and cwd to the host's.
 */
export class Namespaces {
  constructor(private readonly sys: Syscalls) {}

  /** Open /proc/thread-self/ns/* for this thread. Keep the fds for the thread's life. */
  save(): SavedNamespaces {
    const saved = {} as Record<NamespaceKind, number>;
    for (const kind of NAMESPACE_KINDS) {
      saved[kind] = this.sys.open(`/proc/thread-self/ns/${kind}`, O_RDONLY | O_CLOEXEC, 0);
    }
    return saved;
  }

  /**
   * Return to the saved namespaces. Every kind is attempted even when one
   * fails; the first error is thrown afterwards so the caller can retire
   * a thread that could not be restored.
   */
  restore(saved: SavedNamespaces): void {
    let first: unknown;
    for (const kind of NAMESPACE_KINDS) {
      try {
        this.sys.setns(saved[kind], CLONE_FLAG[kind]);
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  release(saved: SavedNamespaces): void {
    for (const kind of NAMESPACE_KINDS) this.sys.close(saved[kind]);
  }

  static cloneFlag(kind: NamespaceKind): number {
    return CLONE_FLAG[kind];
  }
}
