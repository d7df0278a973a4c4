import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { O_CLOEXEC, type Namespaces, type SavedNamespaces, type Syscalls } from '@berth/syscall';
import { Cgroups } from '../cgroups/index.js';
import { LaunchError, WorkerRetiredError } from '../errors.js';
import type { LaunchPlan } from '../plan/index.js';
import { processStartTime } from '../status.js';
import { initArguments, initFds } from './init-args.js';
import type { LaunchStarted, LaunchTask } from './protocol.js';
import { buildContainerTree } from './tree.js';

let cgroups: Cgroups | undefined;

interface Spawned {
  pid: number;
  goFd: number;
  exitFd: number;
}

/**
 * Runs one launch plan on the calling (worker) thread: design.md steps 2–8.
 * The container's tree is built in its own namespaces, the init is spawned
 * into them, and the thread returns to its saved namespaces whatever
 * happened; a thread that cannot return is retired.
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
        if (spawned) process.kill(spawned.pid, 'SIGKILL');
        throw new WorkerRetiredError(error, failure);
      }
    }
    if (failure !== undefined || !spawned) {
      throw new LaunchError(`failed to start container ${plan.containerId.slice(0, 12)}: ${describe(failure)}`, failure);
    }
    const setupMs = performance.now() - started;
    const { pid, goFd, exitFd } = spawned;
    try {
      const cgroupPaths = placeInCgroup(plan, pid);
      const startTime = processStartTime(pid) ?? 0;
      // The init waits for this byte: it is in its cgroup before anything of the container runs.
      try {
        writeSync(goFd, 'g');
      } catch {
        // EPIPE: the init is already gone (killed); its exit pipe tells the rest.
      }
      return { pid, startTime, cgroupPaths, exitFd, setupMs };
    } catch (error) {
      this.sys.close(exitFd);
      throw error;
    } finally {
      this.sys.close(goFd);
    }
  }

  /**
   * posix_spawn from this thread: the init lands in the thread's new
   * namespaces, with the host's root (it pivots itself). Unlike fork, its
   * cost does not grow with the supervisor's memory.
   */
  private spawnInit(plan: LaunchPlan, task: LaunchTask): Spawned {
    const [goRead, goFd] = this.sys.pipe2(O_CLOEXEC);
    const [exitFd, exitWrite] = this.sys.pipe2(O_CLOEXEC);
    try {
      const fds = initFds(task.stdio, this.devNull, plan.process.tty, { go: goRead, status: task.statusFd, exit: exitWrite });
      const pid = this.sys.spawn(plan.initPath, [plan.initPath, ...initArguments(plan)], plan.env, {
        fds, cwd: plan.rootfs.target, setsid: true,
      });
      return { pid, goFd, exitFd };
    } catch (error) {
      this.sys.close(goFd);
      this.sys.close(exitFd);
      throw error;
    } finally {
      this.sys.close(goRead);
      this.sys.close(exitWrite);
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
    cgroups ??= Cgroups.detect(plan.cgroupParent ? { parent: plan.cgroupParent } : {});
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'unknown error');
}
