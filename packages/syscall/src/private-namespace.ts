import { CLONE_FS, CLONE_NEWNS, MS_REC, MS_SLAVE, O_CLOEXEC, O_RDONLY } from './constants.js';
import type { Syscalls } from './signatures.js';

/**
 * berth's own mount namespace (design.md). Mounts that must outlive one
 * container (a tmpfs- or device-backed volume) are made here, never in the
 * host's namespace; each launch enters it before unsharing its own.
 *
 * It is a slave of the host's namespace: mounts the host makes later (a
 * new bind source) still propagate in, and nothing made here propagates out.
 * The namespace lives as long as its fd is open (or a process is in it).
 */
export class PrivateMountNamespace {
  private constructor(
    private readonly sys: Syscalls,
    /** An fd on the namespace, valid in every thread of this process. */
    readonly fd: number,
    private readonly owned: boolean,
  ) {}

  /**
   * Make a new namespace from the calling thread and return the thread to
   * where it was. Only synchronous calls happen in between.
   */
  static create(sys: Syscalls): PrivateMountNamespace {
    const home = sys.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0);
    try {
      // CLONE_FS gives this thread its own root/cwd, which setns(mnt) requires.
      sys.unshare(CLONE_FS | CLONE_NEWNS);
      try {
        sys.mount(null, '/', null, MS_REC | MS_SLAVE, null);
        const fd = sys.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0);
        return new PrivateMountNamespace(sys, fd, true);
      } finally {
        sys.setns(home, CLONE_NEWNS);
      }
    } finally {
      sys.close(home);
    }
  }

  /** Use a namespace fd made elsewhere in this process (e.g. by the main thread, for a worker). */
  static fromFd(sys: Syscalls, fd: number): PrivateMountNamespace {
    return new PrivateMountNamespace(sys, fd, false);
  }

  /**
   * Run `fn` inside the namespace on the calling thread and come back. `fn`
   * must be synchronous: async work would run on libuv threads in the host's
   * namespace. The thread must already have its own fs struct (CLONE_FS).
   */
  run<T>(fn: () => T): T {
    const home = this.sys.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0);
    try {
      this.sys.unshare(CLONE_FS);
      this.sys.setns(this.fd, CLONE_NEWNS);
      try {
        return fn();
      } finally {
        this.sys.setns(home, CLONE_NEWNS);
      }
    } finally {
      this.sys.close(home);
    }
  }

  close(): void {
    if (this.owned) this.sys.close(this.fd);
  }
}
