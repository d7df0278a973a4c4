import type { FaultPlan } from '@berth/syscall';
import type { LaunchPlan } from '../plan/index.js';
import type { ProcessRef, StdioFds } from '../runtime-types.js';

/** What the main thread sends a worker for one launch: plain data and fd numbers (fds are process-wide). */
export interface LaunchTask {
  plan: LaunchPlan;
  stdio: StdioFds;
  /** Status file, opened by the caller for writing; becomes the shim's fd 4. */
  statusFd: number;
  /**
   * What to execute for the shim: a sealed copy of `plan.initPath`
   * (`/proc/self/fd/N`, CVE-2019-5736) when the runtime made one; `plan.initPath` otherwise.
   */
  shimPath?: string;
  /** berth's own mount namespace, entered before unsharing (design.md). */
  berthNamespaceFd: number;
  /**
   * A network namespace the caller made and configured (fd, process-wide):
   * the container joins it instead of a fresh one. The caller keeps owning it.
   */
  netFd?: number;
  /** Fault injection: fail the Nth syscall of this launch (tests); such a launch is always built inline. */
  fault?: FaultPlan;
  /** Fault injection into a launch served by a sandbox (tests): fail its Nth syscall; without a ready sandbox, no effect. */
  sandboxFault?: FaultPlan;
  /**
   * As many containers were starting or running their first second as the
   * machine has cores when this launch was sent: the worker builds no
   * sandbox after it. A sandbox moves work off the launch's path, it does
   * not remove any (it adds a little): it pays off when the cores have idle
   * time between launches, and only costs when they have none.
   */
  saturated?: boolean;
}

export interface LaunchStarted {
  /** The container's PID 1 as the host sees it (the stub, then the command it execs). */
  pid: number;
  startTime: number;
  /** The shim outside the container, the parent of PID 1: it holds the status and relays the terminal. */
  shim: ProcessRef;
  cgroupPaths: string[];
  /**
   * Read end of the shim's exit pipe: EOF means the container has exited and its status is written. The
   * caller owns it. It does not depend on the worker staying alive.
   */
  exitFd: number;
  /** Milliseconds spent in the namespace and mount sequence, for the bench. */
  setupMs: number;
  /** Whether a sandbox built ahead served this launch (sandbox.ts); false: built inline. */
  sandboxed: boolean;
}

/** The exit code of a worker thread that retired itself after failing to restore its namespaces. */
export const RETIRED_EXIT_CODE = 70;
