import type { MessagePort } from 'node:worker_threads';
import type { FaultPlan } from '@berth/syscall';
import type { LaunchPlan } from '../plan/index.js';
import type { StdioFds } from '../runtime-types.js';

/** What the main thread sends a worker for one launch. Plain data plus a port. */
export interface LaunchTask {
  plan: LaunchPlan;
  stdio: StdioFds;
  /** Status file, opened by the caller for writing; becomes the init's fd 4. */
  statusFd: number;
  /** berth's own mount namespace, entered before unsharing (design.md). */
  berthNamespaceFd: number;
  /** Where the worker reports the container's exit. */
  port: MessagePort;
  /** Fault injection: fail the Nth syscall of this launch (tests). */
  fault?: FaultPlan;
}

export interface LaunchStarted {
  pid: number;
  startTime: number;
  cgroupPaths: string[];
  /** Milliseconds spent in the namespace and mount sequence, for the bench. */
  setupMs: number;
}

export type WorkerMessage =
  | { kind: 'exited'; code: number | null; signal: string | null }
  | { kind: 'spawn-error'; message: string };

/** The exit code of a worker thread that retired itself after failing to restore its namespaces. */
export const RETIRED_EXIT_CODE = 70;
