import { readSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { O_CLOEXEC, type Namespaces, type SavedNamespaces, type Syscalls } from '@berth/syscall';
import { Cgroups } from '../cgroups/index.js';
import { LaunchError, WorkerRetiredError } from '../errors.js';
import type { LaunchPlan } from '../plan/index.js';
import { processStartTime } from '../status.js';
import { initArguments, initFds, parsePidReport } from './init-args.js';
import type { LaunchStarted, LaunchTask } from './protocol.js';
import { buildContainerTree } from './tree.js';

let cgroups: Cgroups | undefined;

/**
 * This thread's view of the cgroup layout (detected once; one layout per
 * runtime): the parents the runtime resolved at open (on v1 they may be a
 * recorded earlier supervisor's, not this process's own).
 */
export function launchCgroups(plan: LaunchPlan): Cgroups {
  cgroups ??= Cgroups.detect({
    ...(plan.cgroupParent ? { parent: plan.cgroupParent } : {}),
    recordedV1Parents: plan.cgroupV1Parents,
  });
  return cgroups;
}

interface Spawned {
  /** The shim's pid. */
  pid: number;
  goFd: number;
  exitFd: number;
  /** Read end of the shim's pid pipe. */
  pidFd: number;
}

/**
 * Runs one launch plan on the calling (worker) thread: design.md steps 2–8.
 * The container's tree is built in its own namespaces, the shim is spawned
 * into them, and the thread returns to its saved namespaces whatever
 * happened; a thread that cannot return is retired. The shim forks the
 * stub (the container's PID 1) and reports its host pid; that pid goes
 * into the container's cgroup before the stub is told to go.
 */
export class Executor {
  constructor(
    private readonly sys: Syscalls,
    private readonly namespaces: Namespaces,
    private readonly home: SavedNamespaces,
    private readonly devNull: number,
    /** A network namespace prepared ahead (consumed by this launch), if any. */
    private readonly spareNetFd?: number,
  ) {}

  launch(task: LaunchTask): LaunchStarted {
    const started = performance.now();
    const { plan } = task;
    let spawned: Spawned | undefined;
    let failure: unknown;
    try {
      buildContainerTree(this.sys, plan, task.berthNamespaceFd, this.spareNetFd);
      spawned = this.spawnInit(plan, task);
    } catch (error) {
      failure = error;
    } finally {
      try {
        this.namespaces.restore(this.home);
      } catch (error) {
        if (spawned) {
          // The stub sees EOF on its go pipe and exits: nothing of the container ran.
          for (const fd of [spawned.goFd, spawned.exitFd, spawned.pidFd]) {
            try { this.sys.close(fd); } catch { /* retiring anyway */ }
          }
          process.kill(spawned.pid, 'SIGKILL');
        }
        throw new WorkerRetiredError(error, failure);
      }
    }
    if (failure !== undefined || !spawned) {
      throw new LaunchError(`failed to start container ${plan.containerId.slice(0, 12)}: ${describe(failure)}`, failure);
    }
    const setupMs = performance.now() - started;
    const { goFd, exitFd, pidFd } = spawned;
    const shim = { pid: spawned.pid, startTime: processStartTime(spawned.pid) ?? 0 };
    try {
      const pid = readStubPid(pidFd);
      if (pid === undefined) {
        // The shim failed before it could fork (its status file says why): reap it here.
        this.sys.waitpid(shim.pid, 0);
        throw new LaunchError(`failed to start container ${plan.containerId.slice(0, 12)}: the shim exited before starting it`);
      }
      const cgroupPaths = placeInCgroup(plan, pid);
      const startTime = processStartTime(pid) ?? 0;
      // The stub waits for this byte: it is in its cgroup before anything of the container runs.
      try {
        writeSync(goFd, 'g');
      } catch {
        // EPIPE: the stub is already gone (killed); the exit pipe tells the rest.
      }
      return { pid, startTime, shim, cgroupPaths, exitFd, setupMs, sandboxed: false };
    } catch (error) {
      this.sys.close(exitFd);
      throw error;
    } finally {
      this.sys.close(goFd);
      this.sys.close(pidFd);
    }
  }

  /**
   * posix_spawn from this thread: the shim lands in the thread's new
   * namespaces (not a new pid namespace: it makes that one for its child),
   * with the host's root (the stub pivots). Unlike fork, its cost does not
   * grow with the supervisor's memory.
   */
  private spawnInit(plan: LaunchPlan, task: LaunchTask): Spawned {
    const [goRead, goFd] = this.sys.pipe2(O_CLOEXEC);
    const [exitFd, exitWrite] = this.sys.pipe2(O_CLOEXEC);
    const [pidFd, pidWrite] = this.sys.pipe2(O_CLOEXEC);
    try {
      const fds = initFds(task.stdio, this.devNull, plan.process.tty, { go: goRead, status: task.statusFd, exit: exitWrite, pid: pidWrite });
      const pid = this.sys.spawn(task.shimPath ?? plan.initPath, [plan.initPath, ...initArguments(plan)], plan.env, {
        fds, cwd: plan.rootfs.target, setsid: true,
      });
      return { pid, goFd, exitFd, pidFd };
    } catch (error) {
      this.sys.close(goFd);
      this.sys.close(exitFd);
      this.sys.close(pidFd);
      throw error;
    } finally {
      this.sys.close(goRead);
      this.sys.close(exitWrite);
      this.sys.close(pidWrite);
    }
  }
}

/**
 * Every container gets its own cgroup, limits or not: its device rules
 * (Docker's deny-all and allowed list) live there. Moving a task between v1
 * cgroups waits for an RCU grace period once per placement (7 to 11 ms
 * measured here for the first hierarchy, under 0.2 ms for each further one),
 * the price of the device cgroup.
 */
function placeInCgroup(plan: LaunchPlan, pid: number): string[] {
  try {
    const cgroups = launchCgroups(plan);
    const handle = cgroups.create(plan.containerId, plan.limits, plan.deviceRules);
    cgroups.place(handle, pid);
    return [...handle.paths];
  } catch (error) {
    // Without its cgroup the container would escape its limits and device rules: never let it run.
    // (A cgroup made before the failure goes with the container's cleanup.)
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    throw new LaunchError(`failed to place container ${plan.containerId.slice(0, 12)} in its cgroup: ${describe(error)}`, error);
  }
}

/** Blocks this worker until the shim has forked the stub (or died): "PID\n", then EOF. */
function readStubPid(fd: number): number | undefined {
  const buf = Buffer.alloc(32);
  let length = 0;
  for (;;) {
    const n = readSync(fd, buf, length, buf.length - length, null);
    length += n;
    if (n === 0 || buf.subarray(0, length).includes(10) || length === buf.length) break;
  }
  return parsePidReport(buf.toString('latin1', 0, length));
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'unknown error');
}
