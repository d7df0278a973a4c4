import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Namespaces, SavedNamespaces, Syscalls } from '@berth/syscall';
import { Cgroups } from '../cgroups/index.js';
import { LaunchError, WorkerRetiredError } from '../errors.js';
import type { LaunchPlan } from '../plan/index.js';
import { processStartTime } from '../status.js';
import { initArguments } from './init-args.js';
import type { LaunchStarted, LaunchTask } from './protocol.js';
import { buildContainerTree } from './tree.js';

let cgroups: Cgroups | undefined;

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
  ) {}

  launch(task: LaunchTask): LaunchStarted {
    const started = performance.now();
    const { plan } = task;
    let child: ChildProcess | undefined;
    let failure: unknown;
    try {
      buildContainerTree(this.sys, plan, task.berthNamespaceFd);
      child = spawnInit(plan, task);
    } catch (error) {
      failure = error;
    } finally {
      try {
        this.namespaces.restore(this.home);
      } catch (error) {
        if (child?.pid) process.kill(child.pid, 'SIGKILL');
        throw new WorkerRetiredError(error, failure);
      }
    }
    if (failure !== undefined || !child || child.pid === undefined) {
      child?.on('error', () => undefined);
      throw new LaunchError(`failed to start container ${plan.containerId.slice(0, 12)}: ${describe(failure ?? 'the container init could not be spawned')}`, failure);
    }
    const setupMs = performance.now() - started;
    const pid = child.pid;
    const { port } = task;
    child.on('exit', (code, signal) => {
      port.postMessage({ kind: 'exited', code, signal });
      port.close();
    });
    child.on('error', () => undefined);
    const cgroupPaths = placeInCgroup(plan, pid);
    const startTime = processStartTime(pid) ?? 0;
    // The init waits for this byte: it is in its cgroup before anything of the container runs.
    const go = child.stdio[3] as Writable;
    go.on('error', () => undefined); // an init killed before it read "go" resets the pipe
    go.end('g');
    return { pid, startTime, cgroupPaths, setupMs };
  }
}

function spawnInit(plan: LaunchPlan, task: LaunchTask): ChildProcess {
  // spawn() forks from this thread: the init lands in the thread's new
  // namespaces, with the host's root (it pivots itself).
  return spawn(plan.initPath, initArguments(plan), {
    cwd: plan.rootfs.target,
    env: envObject(plan.env),
    stdio: [task.stdio.stdin ?? 'ignore', task.stdio.stdout, task.stdio.stderr, 'pipe', task.statusFd],
    detached: true,
  });
}

/**
 * A container with limits gets its own cgroup before it runs. Without
 * limits it stays in the supervisor's cgroup, inside the limits the
 * supervisor runs under: moving a task between v1 cgroups waits for an RCU
 * grace period (measured here at 0.2 to 10 ms), which would dominate a launch.
 */
function placeInCgroup(plan: LaunchPlan, pid: number): string[] {
  if (!Object.values(plan.limits).some((v) => v !== undefined)) return [];
  try {
    cgroups ??= Cgroups.detect(plan.cgroupParent ? { parent: plan.cgroupParent } : {});
    const handle = cgroups.create(plan.containerId, plan.limits);
    cgroups.place(handle, pid);
    return [...handle.paths];
  } catch (error) {
    // Without its cgroup the container would escape its limits: never let it run.
    process.kill(pid, 'SIGKILL');
    throw new LaunchError(`failed to place container ${plan.containerId.slice(0, 12)} in its cgroup: ${describe(error)}`, error);
  }
}

function envObject(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
