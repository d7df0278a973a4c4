/**
 * Sandboxes built ahead (issue 16): while a worker is idle it builds, for
 * the image and settings of its recent launches, everything of a container
 * that does not depend on the launch itself — namespaces, the overlay
 * rootfs on a spare writable layer, /dev, /sys, device nodes, the shim and
 * its stub with /proc, sysctls, masked and read-only paths done, the stub
 * in a cgroup with the device rules — and parks it before pivot_root. A
 * launch then only renames the spare layer and the cgroup to the
 * container's, mounts the volumes and binds into the sandbox's tree (still
 * before pivot_root, as design.md orders), sets the hostname, and sends
 * the shim the rest (berth-init.c, "sandbox role").
 *
 * A sandbox is keyed by everything it built ahead (`sandboxKey`); a launch
 * that matches none, or that a sandbox cannot serve (a bridge network, a
 * shared namespace, a mount under /proc, /sys or /dev, a layer that is not
 * fresh...), builds inline as before: no setting is ever silently wrong.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readSync, renameSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AF_UNIX, Namespaces, O_CLOEXEC, O_RDONLY, SOCK_CLOEXEC, SOCK_SEQPACKET, isSyscallError, type SavedNamespaces, type Syscalls,
} from '@berth/syscall';
import { updateLimits, type CgroupHandle, type Cgroups } from '../cgroups/index.js';
import { LaunchError, WorkerRetiredError } from '../errors.js';
import type { LaunchPlan, RootfsMount } from '../plan/index.js';
import type { ProcessRef } from '../runtime-types.js';
import { processStartTime } from '../status.js';
import { describe, launchCgroups } from './execute.js';
import { launchMessage, readPid, rootArguments } from './init-args.js';
import type { LaunchStarted, LaunchTask } from './protocol.js';
import { buildContainerTree, mountIntoSandbox, propagates } from './tree.js';

/** A parked sandbox, owned by the worker thread that built it. */
export interface Sandbox {
  readonly key: string;
  /** The shim, parked in its launch wait (a child of this process). */
  readonly shim: ProcessRef;
  /** The stub: PID 1 of the sandbox's pid namespace, in its cgroup, waiting for the launch. */
  readonly pid: number;
  readonly startTime: number;
  /** Our end of the shim's control socket; closing it discards the sandbox. */
  readonly control: number;
  readonly mountNs: number;
  readonly utsNs: number;
  /** The spare writable layer (`containers/.tmp-sandbox-*`: diff, work, and mnt, where the rootfs is mounted). */
  readonly dir: string;
  readonly cgroup: CgroupHandle;
  readonly cgroups: Cgroups;
}

/** The biggest launch message sent to a sandbox (below the socket's send buffer); a bigger one launches inline. */
const MAX_MESSAGE = 200_000;
const WNOHANG = 1;

/** A sandbox's cgroup, under berth/, until a launch renames it to the container's id. */
export const SANDBOX_CGROUP_PREFIX = 'sandbox-';

/** Mounts at these paths would be made after what the stub did ahead there: such launches build inline. */
const PREPARED_TREES = ['/proc', '/sys', '/dev'];

/**
 * The directory of the container's writable layer when its rootfs is an
 * overlay whose upper and work directories are in it (the layer store's
 * layout), else undefined (vfs, or a rootfs given by a caller).
 */
export function layerDirOf(rootfs: RootfsMount): string | undefined {
  if (rootfs.type !== 'overlay') return undefined;
  const dir = posix.dirname(rootfs.target);
  return rootfs.options.includes(`upperdir=${dir}/diff`) && rootfs.options.includes(`workdir=${dir}/work`) ? dir : undefined;
}

/**
 * Everything a sandbox builds ahead, as one string: a launch may use a
 * sandbox only with an equal key. Undefined: this launch always builds inline.
 */
export function sandboxKey(task: LaunchTask): string | undefined {
  const { plan } = task;
  if (task.fault !== undefined || task.netFd !== undefined) return undefined;
  if (plan.pidNamespace !== 'new' || plan.network !== 'none' || plan.sharedShm !== undefined) return undefined;
  if (Object.values(plan.joinNamespaces).some((path) => path !== undefined)) return undefined;
  // cpuset is a hierarchy a cgroup joins only when asked: the sandbox's has none.
  if (plan.limits.cpusetCpus !== undefined || plan.limits.cpusetMems !== undefined) return undefined;
  if (propagates(plan.mounts)) return undefined;
  if (plan.mounts.some((m) => PREPARED_TREES.some((p) => m.destination === p || m.destination.startsWith(`${p}/`)))) return undefined;
  if ([...plan.process.args, ...plan.env].some((s) => s.includes('\0'))) return undefined;
  const lowerdir = layerDirOf(plan.rootfs) !== undefined ? plan.rootfs.options.find((o) => o.startsWith('lowerdir=')) : undefined;
  if (lowerdir === undefined) return undefined;
  return JSON.stringify([
    lowerdir, plan.namespaces, plan.dev, plan.sys, plan.proc, plan.maskedPaths, plan.readonlyPaths, plan.sysctls, plan.devices,
    plan.cgroupParent, plan.cgroupV1Parents, plan.deviceRules, plan.initPath, task.shimPath ?? '',
  ]);
}

/** What a sandbox is built from: a launch with that key (its plan and the worker-independent fds). */
type Template = Pick<LaunchTask, 'plan' | 'berthNamespaceFd' | 'shimPath'>;

export interface SandboxPoolOptions {
  /** Sandboxes this worker keeps ready (0: none, every launch builds inline). */
  size: number;
}

/**
 * A worker's sandboxes. Single-threaded like the worker: `take` on a
 * launch, `refillOne` while idle, `drain` at the end.
 */
export class SandboxPool {
  private readonly ready: Sandbox[] = [];
  /** The most recent launch of each recent key (newest last). */
  private readonly recent = new Map<string, Template>();
  /** Builds whose stub has not parked yet, and their control sockets. */
  private readonly pending = new Set<Promise<void>>();
  private readonly pendingControls = new Set<number>();
  private closed = false;
  /** Counters for the bench: sandboxes built, used, and discarded, and ms spent building. */
  readonly stats = { built: 0, used: 0, discarded: 0, buildMs: 0 };

  constructor(
    private readonly sys: Syscalls,
    private readonly namespaces: Namespaces,
    private readonly home: SavedNamespaces,
    private readonly devNull: number,
    private readonly options: SandboxPoolOptions,
  ) {}

  get size(): number {
    return this.ready.length;
  }

  /** A live sandbox for `key`, out of the pool; dead ones met on the way are cleared. */
  take(key: string): Sandbox | undefined {
    for (let i = 0; i < this.ready.length;) {
      const sandbox = this.ready[i]!;
      if (sandbox.key !== key) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      if (this.alive(sandbox)) return sandbox;
      this.discard(sandbox);
    }
    return undefined;
  }

  /** Keep building for this key (its newest launch is the template). */
  remember(key: string, task: LaunchTask): void {
    if (this.options.size === 0) return;
    this.recent.delete(key);
    this.recent.set(key, { plan: task.plan, berthNamespaceFd: task.berthNamespaceFd, ...(task.shimPath ? { shimPath: task.shimPath } : {}) });
    while (this.recent.size > this.options.size) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * One step of refilling, for the most recently used key: a sandbox of a
   * key no longer recent is discarded to make room, or one is built.
   * Returns whether it did anything (the worker calls again, one step per
   * turn of its event loop, so a launch is never behind more than one build).
   */
  refillOne(network: () => number | undefined): boolean {
    if (this.closed || this.options.size === 0) return false;
    const newest = [...this.recent.keys()].at(-1);
    if (newest === undefined) return false;
    const count = this.ready.length + this.pending.size;
    if (this.ready.filter((s) => s.key === newest).length + this.pending.size >= this.options.size) return false;
    if (count >= this.options.size) {
      const stale = this.ready.findIndex((s) => s.key !== newest);
      if (stale < 0) return false;
      this.discard(this.ready.splice(stale, 1)[0]!);
      return true;
    }
    const started = performance.now();
    const netFd = network();
    try {
      this.build(newest, this.recent.get(newest)!, netFd);
      this.stats.built++;
    } catch (error) {
      if (error instanceof WorkerRetiredError) throw error;
      // This key cannot be built ahead here (its launches still work inline): stop trying it.
      this.recent.delete(newest);
    } finally {
      // The sandbox's processes hold its network namespace now.
      if (netFd !== undefined) this.sys.close(netFd);
      this.stats.buildMs += performance.now() - started;
    }
    return true;
  }

  /** Every sandbox discarded (those still parking too, once parked), and no more built. */
  async drain(): Promise<void> {
    this.closed = true;
    for (const sandbox of this.ready.splice(0)) this.discard(sandbox);
    await Promise.allSettled([...this.pending]);
  }

  /**
   * For a thread that must end now: every shim, parked or parking, gets EOF
   * on its control socket and exits with its stub. What they leave (a
   * cgroup, a spare layer) goes when the runtime next opens.
   */
  abandon(): void {
    this.closed = true;
    for (const sandbox of this.ready.splice(0)) this.sys.close(sandbox.control);
    for (const fd of this.pendingControls) this.sys.close(fd);
    this.pendingControls.clear();
  }

  /**
   * The launch, into a sandbox taken for its key. Undefined when this
   * sandbox cannot serve it after all (checked before anything changes; the
   * sandbox goes back to the pool): the caller builds inline. Once the
   * sandbox's cgroup carries the container's name, the sandbox is the
   * container's, and a failure fails the launch.
   */
  launch(sandbox: Sandbox, task: LaunchTask, sys: Syscalls = this.sys): LaunchStarted | undefined {
    const started = performance.now();
    const { plan } = task;
    const layer = layerDirOf(plan.rootfs)!;
    const message = launchMessage(plan);
    // A layer that was used before (a restart, or files copied in) keeps its content: inline.
    if (message.length > MAX_MESSAGE || !emptyDirectory(posix.join(layer, 'diff')) || !emptyDirectory(posix.join(layer, 'work'))) {
      this.ready.push(sandbox);
      return undefined;
    }
    let cgroup: CgroupHandle;
    try {
      cgroup = sandbox.cgroups.rename(sandbox.cgroup, plan.containerId);
    } catch {
      // The name is taken (the same container's cgroup from its previous run): inline takes it over.
      this.ready.push(sandbox);
      return undefined;
    }
    this.stats.used++;
    let exitFd = -1;
    let exitWrite = -1;
    try {
      updateLimits(sandbox.cgroups, plan.containerId, plan.limits);
      // The spare layer becomes the container's: its diff and work swap places with the empty
      // ones (atomically: the layer has a diff and a work at every instant, and nothing is
      // deleted on the launch's path, where an rmdir costs a discard), and the rest — the
      // empty ones and the mount point of the rootfs (in the sandbox's namespace only) — goes
      // inside the container's directory, removed with it.
      sys.renameExchange(posix.join(sandbox.dir, 'diff'), posix.join(layer, 'diff'));
      sys.renameExchange(posix.join(sandbox.dir, 'work'), posix.join(layer, 'work'));
      const moved = posix.join(layer, 'sandbox');
      renameSync(sandbox.dir, moved);
      // The restore goes through the same (possibly faulty) syscalls as the launch, as inline.
      this.inNamespaces(() => mountIntoSandbox(sys, plan, task.berthNamespaceFd, {
        mountNs: sandbox.mountNs, utsNs: sandbox.utsNs, rootTarget: posix.join(moved, 'mnt'),
      }), sys === this.sys ? this.namespaces : new Namespaces(sys));
      [exitFd, exitWrite] = sys.pipe2(O_CLOEXEC);
      const fds = [task.stdio.stdin ?? this.devNull, task.stdio.stdout, task.stdio.stderr, task.statusFd, exitWrite];
      if (plan.process.tty && task.stdio.terminalSize !== undefined) fds.push(task.stdio.terminalSize);
      sys.sendFds(sandbox.control, message, fds);
      // One byte once the shim has written its state line (the status file names the container from
      // then on, as after an inline launch's pid report); EOF: it failed first, its status file says why.
      if (!shimAnswered(sandbox.control)) throw new LaunchError('the shim exited before starting it');
    } catch (error) {
      if (exitFd >= 0) this.sys.close(exitFd);
      // Nothing of the container ran: the stub is ended, the shim sees EOF and exits (reaped here).
      // The cgroup and the layer carry the container's name now and go with its cleanup.
      try { process.kill(sandbox.pid, 'SIGKILL'); } catch { /* already gone */ }
      this.release(sandbox);
      if (error instanceof WorkerRetiredError) throw error;
      throw new LaunchError(`failed to start container ${plan.containerId.slice(0, 12)}: ${describe(error)}`, error);
    } finally {
      if (exitWrite >= 0) this.sys.close(exitWrite);
    }
    // The shim has the message and its fds: our ends go.
    for (const fd of [sandbox.control, sandbox.mountNs, sandbox.utsNs]) this.sys.close(fd);
    return {
      pid: sandbox.pid, startTime: sandbox.startTime, shim: sandbox.shim, cgroupPaths: [...cgroup.paths], exitFd,
      setupMs: performance.now() - started, sandboxed: true,
    };
  }

  /**
   * Builds one sandbox for `key` from `template`, with `netFd` (a network
   * namespace made ahead) if given: the tree and the shim now, on this
   * thread (synchronous: the thread is in other namespaces meanwhile); the
   * wait for the stub to park and the move into its cgroup asynchronously,
   * so the thread can serve launches meanwhile. It joins the pool when parked.
   */
  private build(key: string, template: Template, netFd: number | undefined): void {
    const { plan } = template;
    // A launch renames the sandbox's cgroup, which only v1 can do.
    if (launchCgroups(plan).version !== 1) throw new LaunchError('failed to build a sandbox: cgroup v2 cannot rename a cgroup; launches are built inline');
    const layer = layerDirOf(plan.rootfs)!;
    const dir = posix.join(posix.dirname(layer), `.tmp-sandbox-${randomBytes(8).toString('hex')}`);
    mkdirSync(dir, { mode: 0o710 });
    for (const d of ['diff', 'work', 'mnt']) mkdirSync(posix.join(dir, d), { mode: d === 'diff' ? 0o755 : 0o700 });
    const target = posix.join(dir, 'mnt');
    const options = plan.rootfs.options.map((o) =>
      o.startsWith('upperdir=') ? `upperdir=${dir}/diff` : o.startsWith('workdir=') ? `workdir=${dir}/work` : o);
    const spare: LaunchPlan = { ...plan, containerId: 'sandbox', rootfs: { ...plan.rootfs, target, options }, mounts: [] };
    const ours: number[] = [];
    const keep = (fd: number): number => {
      ours.push(fd);
      return fd;
    };
    let shimPid = 0;
    let control = -1;
    let mountNs = -1;
    let utsNs = -1;
    let pidFd = -1;
    const abandon = (): void => {
      for (const fd of ours.splice(0)) this.sys.close(fd);
      if (shimPid > 0) this.reap(shimPid);
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 });
    };
    try {
      let theirs = -1;
      let pidWrite = -1;
      try {
        this.inNamespaces(() => {
          buildContainerTree(this.sys, spare, template.berthNamespaceFd, netFd);
          mountNs = keep(this.sys.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0));
          utsNs = keep(this.sys.open('/proc/thread-self/ns/uts', O_RDONLY | O_CLOEXEC, 0));
          [control, theirs] = this.sys.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
          keep(control);
          [pidFd, pidWrite] = this.sys.pipe2(O_CLOEXEC);
          const devNull = this.devNull;
          shimPid = this.sys.spawn(template.shimPath ?? plan.initPath, [plan.initPath, '--sandbox', ...rootArguments(spare, target)], [], {
            fds: [devNull, devNull, devNull, theirs, devNull, devNull, pidWrite], cwd: target, setsid: true,
          });
        });
      } finally {
        for (const fd of [theirs, pidWrite]) if (fd >= 0) this.sys.close(fd);
      }
    } catch (error) {
      if (pidFd >= 0) this.sys.close(pidFd);
      abandon();
      throw error;
    }
    this.pendingControls.add(control);
    const parked = (async (): Promise<void> => {
      let cgroup: CgroupHandle | undefined;
      const cgroups = launchCgroups(plan);
      try {
        // The stub has prepared the root and parked when its pid comes (none: it failed).
        const pid = await readPid(pidFd);
        if (pid === undefined) throw new LaunchError('failed to build a sandbox: its shim exited before parking');
        const shim = { pid: shimPid, startTime: processStartTime(shimPid) ?? 0 };
        const startTime = processStartTime(pid) ?? 0;
        cgroup = cgroups.create(`${SANDBOX_CGROUP_PREFIX}${randomBytes(8).toString('hex')}`, {}, plan.deviceRules);
        // Off the launch's path: the move into the cgroup (an RCU grace period on v1) is paid here.
        await cgroups.placeAsync(cgroup, pid);
        const sandbox: Sandbox = { key, shim, pid, startTime, control, mountNs, utsNs, dir, cgroup, cgroups };
        this.pendingControls.delete(control);
        ours.splice(0);
        if (this.closed) this.discard(sandbox);
        else this.ready.push(sandbox);
      } catch (error) {
        this.pendingControls.delete(control);
        if (cgroup) {
          try { cgroups.remove(cgroup); } catch { /* still busy: removed when the runtime next opens */ }
        }
        abandon();
        // This key cannot be built ahead here (its launches still work inline): stop trying it.
        if (!(error instanceof WorkerRetiredError)) this.recent.delete(key);
      }
    })();
    this.pending.add(parked);
    void parked.finally(() => this.pending.delete(parked));
  }

  /** Runs `work` on this thread in other namespaces and comes back home, or retires the thread. */
  private inNamespaces(work: () => void, namespaces: Namespaces = this.namespaces): void {
    let failure: unknown;
    try {
      work();
    } catch (error) {
      failure = error;
    } finally {
      try {
        namespaces.restore(this.home);
      } catch (error) {
        // A thread stuck in other namespaces must not go on.
        throw new WorkerRetiredError(error, failure);
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Whether the shim is still parked (a dead one is reaped here). */
  private alive(sandbox: Sandbox): boolean {
    try {
      return this.sys.waitpid(sandbox.shim.pid, WNOHANG).pid === 0;
    } catch {
      return false;
    }
  }

  /** Ends a sandbox: its shim sees EOF and exits, and with it the stub; then its cgroup and layer go. */
  private discard(sandbox: Sandbox): void {
    this.stats.discarded++;
    this.release(sandbox);
    try { sandbox.cgroups.remove(sandbox.cgroup); } catch { /* still busy: removed when the runtime next opens */ }
    try {
      rmSync(sandbox.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 10 });
    } catch { /* the mount point still busy: a temporary name, removed when the layer store next opens */ }
  }

  private release(sandbox: Sandbox): void {
    for (const fd of [sandbox.control, sandbox.mountNs, sandbox.utsNs]) {
      try { this.sys.close(fd); } catch { /* closed already */ }
    }
    this.reap(sandbox.shim.pid);
  }

  private reap(pid: number): void {
    try {
      this.sys.waitpid(pid, 0);
    } catch (error) {
      if (!isSyscallError(error, 'ECHILD')) throw error;
    }
  }
}

function shimAnswered(control: number): boolean {
  try {
    return readSync(control, Buffer.alloc(1), 0, 1, null) === 1;
  } catch {
    return false;
  }
}

function emptyDirectory(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}
