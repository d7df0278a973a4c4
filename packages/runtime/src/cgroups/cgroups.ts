import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import {
  BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE, LinuxSyscalls, O_CLOEXEC, O_DIRECTORY, O_RDONLY, type Syscalls,
} from '@berth/syscall';
import { encodeBpf, v2DeviceProgram } from './device-program.js';
import { CgroupError, fsCode } from './errors.js';
import { cgroupDir, cgroupMounts, parseProcCgroup } from './layout.js';
import { v1DeviceWrites, v1Writes, v2Writes, type CgroupController, type CgroupLimits, type CgroupWrite } from './limits.js';
import type { DeviceRule } from '../plan/devices.js';

/*
 * Container cgroups, synchronous only: this runs on a worker thread between
 * the spawn of the init and its "go", where async fs would run on libuv's
 * pool in other namespaces (design.md).
 *
 * Placement (design.md): on v1, per hierarchy, <supervisor's own cgroup>/berth/<id>,
 * so a container stays inside the limits the supervisor runs under (the one
 * an earlier supervisor of the same root recorded, while it exists:
 * parents-record.ts); on v2,
 * <parent>/berth/<id>, controllers enabled only in berth/, which berth owns.
 * berth only ever writes to, or removes, directories named <id> directly
 * under a berth/ directory; it never changes a cgroup it did not create.
 */

export interface CgroupsOptions {
  /** The cgroup under which `berth/` is made, as a cgroup path ("/system.slice/x").
   *  Default: v1 the supervisor's own cgroup in each hierarchy; v2 the root. */
  parent?: string;
  /**
   * v1: the parents an earlier supervisor of the same root used, by hierarchy
   * (`v1Parents` of that instance). Each one whose cgroup still exists wins
   * over this process's own, so a supervisor started from another cgroup
   * finds, and cleans up, what the last one placed. `parent` wins over both.
   */
  recordedV1Parents?: Readonly<Record<string, string>>;
  /** Where procfs is (tests point it at a fake tree). Default /proc. */
  procRoot?: string;
  /** Where sysfs is; cgroup mount points under /sys are looked up there. Default /sys. */
  sysfsRoot?: string;
  /** v1 controllers to place containers in. Default memory, pids, cpu, cpuacct, devices, freezer, blkio, cpuset. */
  controllers?: readonly string[];
  /** For the v2 device program (bpf(2)); default the real kernel. */
  syscalls?: Syscalls;
}

/** A container's cgroup: one directory per v1 hierarchy, or one on v2. Plain data (JSON-safe). */
export interface CgroupHandle {
  readonly containerId: string;
  readonly version: 1 | 2;
  readonly paths: readonly string[];
}

interface Parent {
  /** The berth/ directory under the parent cgroup. */
  berthDir: string;
  controllers: readonly string[];
  /** v1: the parent as a cgroup path in its hierarchy ("/system.slice/x"). */
  cgroupPath?: string;
}

/** A v1 hierarchy's key in `v1Parents`: its controllers, as mounted ("cpu,cpuacct"). */
function hierarchyKey(controllers: readonly string[]): string {
  return controllers.join(',');
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const V2_CONTROLLERS: readonly CgroupController[] = ['cpu', 'memory', 'pids', 'cpuset'];
// freezer for pause, blkio for stats: every container has a cgroup in each, as under Docker.
// cpuset for --cpuset-cpus, made only for a container that asks for one: a v1 cpuset
// cgroup starts empty (see inheritCpuset) and placing a task in it costs ~1 ms a launch.
const DEFAULT_V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'devices', 'freezer', 'blkio', 'cpuset'];

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (fsCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

export function writeCgroupFile(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (error) {
    throw new CgroupError('CGROUP_WRITE_FAILED', `failed to write "${value}" to ${path}: ${fsCode(error) ?? String(error)}`, path, {
      cause: error,
    });
  }
}

/** "key value" lines (memory.events, memory.oom_control) as a map. */
function keyValues(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) map.set(key, Number(value));
  }
  return map;
}

/**
 * A new v1 cpuset cgroup has no CPUs and no memory nodes, and takes no task
 * until it has both (ENOSPC): copy the parent's, as runc does, when empty.
 */
function inheritCpuset(parentDir: string, dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if ((readOptional(posix.join(dir, file)) ?? '').trim() !== '') continue;
    const inherited = (readOptional(posix.join(parentDir, file)) ?? '').trim();
    if (inherited !== '') writeCgroupFile(posix.join(dir, file), inherited);
  }
}

export class Cgroups {
  /** berth/ directories this instance made, the only ones it may remove. */
  private readonly createdBerthDirs = new Set<string>();

  constructor(
    readonly version: 1 | 2,
    private readonly parents: readonly Parent[],
    private readonly syscalls?: Syscalls,
  ) {}

  /** Find the hierarchies and this process's place in them. */
  static detect(options: CgroupsOptions = {}): Cgroups {
    const procRoot = options.procRoot ?? '/proc';
    const sysfsRoot = options.sysfsRoot ?? '/sys';
    const onSysfs = (path: string): string =>
      path === '/sys' || path.startsWith('/sys/') ? posix.join(sysfsRoot, path.slice(4)) : path;
    const mounts = cgroupMounts(readFileSync(posix.join(procRoot, 'self', 'mountinfo'), 'utf8'));
    const own = parseProcCgroup(readFileSync(posix.join(procRoot, 'self', 'cgroup'), 'utf8'));
    const wanted = options.controllers ?? DEFAULT_V1_CONTROLLERS;

    const v1 = mounts.v1.filter((h) => h.controllers.some((c) => wanted.includes(c)));
    if (v1.length > 0) {
      // v1 or hybrid: the controllers live in v1 hierarchies (the v2 one has none).
      const parents = v1.map((h) => {
        const dirOf = (path: string): string => cgroupDir(onSysfs(h.mountPoint), h.mountRoot, path);
        const recorded = options.recordedV1Parents?.[hierarchyKey(h.controllers)];
        const path = options.parent
          ?? (recorded !== undefined && recorded.startsWith('/') && !recorded.split('/').includes('..') && existsSync(dirOf(recorded)) ? recorded : undefined)
          ?? own.get(h.controllers[0] ?? '') ?? '/';
        return { berthDir: posix.join(dirOf(path), 'berth'), controllers: h.controllers, cgroupPath: path };
      });
      return new Cgroups(1, parents, options.syscalls);
    }
    if (mounts.v2) {
      const path = options.parent ?? '/';
      return new Cgroups(2, [
        { berthDir: posix.join(cgroupDir(onSysfs(mounts.v2.mountPoint), mounts.v2.mountRoot, path), 'berth'), controllers: [] },
      ], options.syscalls);
    }
    throw new CgroupError('CGROUP_UNSUPPORTED', 'failed to find cgroups: no cgroup v1 controller or cgroup2 mount in mountinfo; mount cgroupfs');
  }

  /** v1: the parent of each hierarchy's berth/, to record for the next supervisor of this root (`recordedV1Parents`). */
  get v1Parents(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.parents) if (p.cgroupPath !== undefined) out[hierarchyKey(p.controllers)] = p.cgroupPath;
    return out;
  }

  /** The berth/ directories containers go under (one per v1 hierarchy). */
  get berthDirs(): string[] {
    return this.parents.map((p) => p.berthDir);
  }

  /**
   * Make the container's cgroup and write its limits and device rules; all
   * or nothing. `devices` undefined leaves device access as the parent has
   * it (tests of limits alone); a launch always passes its plan's rules.
   */
  create(containerId: string, limits: CgroupLimits = {}, devices?: readonly DeviceRule[]): CgroupHandle {
    if (!CONTAINER_ID.test(containerId)) {
      throw new CgroupError('CGROUP_INVALID_ID', `failed to create cgroup: invalid container id "${containerId}"`);
    }
    const writes = this.version === 1 ? [...v1Writes(limits), ...(devices ? v1DeviceWrites(devices) : [])] : v2Writes(limits);
    for (const w of writes) this.controllerParent(w.controller); // fail before any effect
    const made: string[] = [];
    try {
      const wantsCpuset = limits.cpusetCpus !== undefined || limits.cpusetMems !== undefined;
      for (const parent of this.parents) {
        if (this.version === 1 && parent.controllers.includes('cpuset') && !wantsCpuset) continue;
        this.ensureBerthDir(parent);
        const dir = posix.join(parent.berthDir, containerId);
        try {
          mkdirSync(dir);
        } catch (error) {
          // The same container's cgroup from its previous run, not yet removed (its init is reaped, and
          // the cgroup removed, in the background after the exit is reported; a restart can be faster):
          // empty, it is taken over and written afresh.
          const reusable = fsCode(error) === 'EEXIST' && (readOptional(posix.join(dir, 'cgroup.procs')) ?? 'x').trim() === '';
          if (!reusable) {
            const hint = fsCode(error) === 'EEXIST' ? '; processes of a previous container with this id still run in it, remove it first' : '';
            throw new CgroupError('CGROUP_CREATE_FAILED', `failed to create cgroup ${dir}: ${fsCode(error) ?? String(error)}${hint}`, dir, {
              cause: error,
            });
          }
        }
        made.push(dir);
        if (this.version === 1 && parent.controllers.includes('cpuset')) inheritCpuset(parent.berthDir, dir);
        this.applyWrites(dir, writes.filter((w) => this.version === 2 || parent.controllers.includes(w.controller)));
        if (this.version === 2 && devices !== undefined) this.attachDeviceProgram(dir, devices);
      }
    } catch (error) {
      for (const dir of made.reverse()) this.rmdirQuietly(dir);
      throw error;
    }
    return { containerId, version: this.version, paths: made };
  }

  /** Put a process (the waiting init) into the container's cgroup, in every hierarchy. */
  place(handle: CgroupHandle, pid: number): void {
    for (const path of this.checkedPaths(handle)) writeCgroupFile(posix.join(path, 'cgroup.procs'), String(pid));
  }

  /**
   * A cgroup made ahead (a sandbox's, with its waiting process already in
   * it) renamed to a container's, in every hierarchy: v1 renames within the
   * same parent, and the processes stay where they are (no migration, so
   * no RCU wait on the launch's path). All or nothing: a failure (the name
   * taken, or cgroup v2, which cannot rename) puts back what was renamed.
   */
  rename(handle: CgroupHandle, containerId: string): CgroupHandle {
    if (!CONTAINER_ID.test(containerId)) {
      throw new CgroupError('CGROUP_INVALID_ID', `failed to rename cgroup: invalid container id "${containerId}"`);
    }
    const done: Array<[string, string]> = [];
    const paths = this.checkedPaths(handle);
    // Checked first, so that a name taken in one hierarchy (that container's previous run, its removal
    // under way) leaves everything as it was rather than relying on the renames back.
    const taken = paths.find((path) => existsSync(posix.join(posix.dirname(path), containerId)));
    if (taken !== undefined) {
      throw new CgroupError('CGROUP_RENAME_FAILED', `failed to rename cgroup ${taken} to ${containerId}: EEXIST`, taken);
    }
    try {
      for (const path of paths) {
        const to = posix.join(posix.dirname(path), containerId);
        renameSync(path, to);
        done.push([path, to]);
      }
    } catch (error) {
      for (const [from, to] of done.reverse()) {
        try { renameSync(to, from); } catch { /* left under the container's name: removed with it */ }
      }
      throw new CgroupError('CGROUP_RENAME_FAILED', `failed to rename cgroup ${handle.paths[done.length] ?? ''} to ${containerId}: ${fsCode(error) ?? String(error)}`, undefined, {
        cause: error,
      });
    }
    return { containerId, version: this.version, paths: done.map(([, to]) => to) };
  }

  /**
   * `place`, with the writes on libuv's threads: on v1 the first move
   * waits for an RCU grace period (7–11 ms here), which the calling thread
   * need not sit through (a sandbox's build, sandbox.ts).
   */
  async placeAsync(handle: CgroupHandle, pid: number): Promise<void> {
    for (const path of this.checkedPaths(handle)) {
      const file = posix.join(path, 'cgroup.procs');
      try {
        await writeFile(file, String(pid));
      } catch (error) {
        throw new CgroupError('CGROUP_WRITE_FAILED', `failed to write "${pid}" to ${file}: ${fsCode(error) ?? String(error)}`, file, { cause: error });
      }
    }
  }

  /**
   * Remove the container's cgroup directories. Kills nothing: the caller ends
   * the processes first; a cgroup whose last task is still exiting is busy for
   * a moment, so EBUSY is retried briefly.
   */
  remove(handle: CgroupHandle, timeoutMs = 2000): void {
    for (const path of this.checkedPaths(handle)) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          rmdirSync(path);
          break;
        } catch (error) {
          const code = fsCode(error);
          if (code === 'ENOENT') break;
          if (code === 'EBUSY' && Date.now() < deadline) {
            sleepSync(10);
            continue;
          }
          throw new CgroupError(
            code === 'EBUSY' ? 'CGROUP_BUSY' : 'CGROUP_REMOVE_FAILED',
            `failed to remove cgroup ${path}: ${code ?? String(error)}${code === 'EBUSY' ? '; processes are still in it, stop them first' : ''}`,
            path,
            { cause: error },
          );
        }
      }
    }
  }

  /**
   * Removes the empty cgroups under berth/ whose names start with `prefix`
   * (the sandboxes of a supervisor that was killed); rmdir leaves any
   * that still has a task.
   */
  removeEmpty(prefix: string): string[] {
    const removed: string[] = [];
    for (const { berthDir } of this.parents) {
      let names: string[];
      try { names = readdirSync(berthDir); } catch { continue; }
      for (const name of names) {
        if (name.startsWith(prefix) && this.rmdirQuietly(posix.join(berthDir, name))) removed.push(posix.join(berthDir, name));
      }
    }
    return removed;
  }

  /** Remove the berth/ directories this instance created, if they are empty now. */
  cleanup(): string[] {
    const removed: string[] = [];
    for (const dir of this.createdBerthDirs) {
      if (this.rmdirQuietly(dir)) {
        removed.push(dir);
        this.createdBerthDirs.delete(dir);
      }
    }
    return removed;
  }

  /** The directories a container's cgroup has (or would have), without touching anything. */
  pathsFor(containerId: string): string[] {
    if (!CONTAINER_ID.test(containerId)) {
      throw new CgroupError('CGROUP_INVALID_ID', `failed to name cgroup: invalid container id "${containerId}"`);
    }
    return this.parents.map((p) => posix.join(p.berthDir, containerId));
  }

  /**
   * A handle for directories recorded earlier (after a supervisor restart);
   * refuses anything not directly under a berth/ dir of this layout. No paths
   * give an empty handle (a container that never got a cgroup).
   */
  fromPaths(paths: readonly string[]): CgroupHandle {
    const ids = new Set(paths.map((p) => posix.basename(p)));
    const [containerId = ''] = ids;
    if (ids.size > 1) {
      throw new CgroupError('CGROUP_NOT_OURS', `failed to adopt cgroups ${paths.join(', ')}: expected one container id`);
    }
    const handle = { containerId, version: this.version, paths: [...paths] };
    this.checkedPaths(handle);
    return handle;
  }

  /**
   * The directory of a container's cgroup that holds `controller` (v1: that
   * hierarchy's; v2: the one directory, whatever the controller), or
   * undefined when no hierarchy has it. Reads nothing.
   */
  controllerDir(containerId: string, controller: string): string | undefined {
    const paths = this.pathsFor(containerId);
    if (this.version === 2) return paths[0];
    const index = this.parents.findIndex((p) => p.controllers.includes(controller));
    return index < 0 ? undefined : paths[index];
  }

  /** Whether the kernel's OOM killer killed a process of this container. */
  oomKilled(handle: CgroupHandle): boolean {
    const memory = this.memoryPath(handle);
    if (memory === undefined) return false;
    const file = this.version === 1 ? 'memory.oom_control' : 'memory.events';
    return (keyValues(readOptional(posix.join(memory, file))).get('oom_kill') ?? 0) > 0;
  }

  /** The highest memory use seen, in bytes, where the kernel records it. */
  memoryPeakBytes(handle: CgroupHandle): number | undefined {
    const memory = this.memoryPath(handle);
    if (memory === undefined) return undefined;
    const text = readOptional(posix.join(memory, this.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak'));
    return text === undefined ? undefined : Number(text.trim());
  }

  private memoryPath(handle: CgroupHandle): string | undefined {
    return this.checkedPaths(handle).find((path) => {
      const parent = this.parents.find((p) => p.berthDir === posix.dirname(path));
      return this.version === 2 || (parent?.controllers.includes('memory') ?? false);
    });
  }

  private controllerParent(controller: CgroupController): void {
    if (this.version === 2) return; // checked against cgroup.controllers in ensureBerthDir
    if (!this.parents.some((p) => p.controllers.includes(controller))) {
      throw new CgroupError(
        'CGROUP_CONTROLLER_UNAVAILABLE',
        `failed to set a ${controller} limit: no cgroup v1 hierarchy has the ${controller} controller mounted`,
      );
    }
  }

  /** Never act on a path that is not <one of our berth dirs>/<id>. */
  private checkedPaths(handle: CgroupHandle): readonly string[] {
    for (const path of handle.paths) {
      const ours = this.parents.some((p) => p.berthDir === posix.dirname(path));
      if (!ours || posix.basename(path) !== handle.containerId || !CONTAINER_ID.test(handle.containerId)) {
        throw new CgroupError('CGROUP_NOT_OURS', `failed to use cgroup ${path}: not a container cgroup under ${this.berthDirs.join(', ')}`, path);
      }
    }
    return handle.paths;
  }

  private ensureBerthDir(parent: Parent): void {
    try {
      mkdirSync(parent.berthDir);
      this.createdBerthDirs.add(parent.berthDir);
    } catch (error) {
      if (fsCode(error) !== 'EEXIST') {
        throw new CgroupError('CGROUP_CREATE_FAILED', `failed to create cgroup ${parent.berthDir}: ${fsCode(error) ?? String(error)}`, parent.berthDir, {
          cause: error,
        });
      }
    }
    if (this.version === 2) this.enableV2Controllers(parent.berthDir);
    else if (parent.controllers.includes('cpuset')) inheritCpuset(posix.dirname(parent.berthDir), parent.berthDir);
  }

  /** Enable cpu/memory/pids for berth/'s children, in berth/ only (which berth owns). */
  private enableV2Controllers(berthDir: string): void {
    const available = (readOptional(posix.join(berthDir, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
    const enabled = (readOptional(posix.join(berthDir, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/);
    const missing = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
    if (missing.length > 0) writeCgroupFile(posix.join(berthDir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
    this.availableV2 = available;
  }

  private availableV2: readonly string[] = [];

  private applyWrites(dir: string, writes: readonly CgroupWrite[]): void {
    for (const w of writes) {
      if (this.version === 2 && !this.availableV2.includes(w.controller)) {
        throw new CgroupError(
          'CGROUP_CONTROLLER_UNAVAILABLE',
          `failed to set a ${w.controller} limit: the ${w.controller} controller is not delegated to ${posix.dirname(dir)}; ` +
            `enable it in the parent's cgroup.subtree_control (berth never changes cgroups it did not create)`,
          dir,
        );
      }
      const file = posix.join(dir, w.file);
      if (w.optional && !existsSync(file)) continue;
      writeCgroupFile(file, w.value);
    }
  }

  /**
   * The v2 device controller: an eBPF program attached to the cgroup
   * (BPF_F_ALLOW_MULTI, so a program the parent has still applies too). The
   * attachment keeps the program; berth's fds on it are closed at once.
   */
  private attachDeviceProgram(dir: string, rules: readonly DeviceRule[]): void {
    const sys = this.syscalls ?? (this.ownSyscalls ??= new LinuxSyscalls());
    const fail = (error: unknown): never => {
      throw new CgroupError('CGROUP_WRITE_FAILED', `failed to attach the device program to ${dir}: ${error instanceof Error ? error.message : String(error)}`, dir, {
        cause: error,
      });
    };
    let prog = -1;
    let target = -1;
    try {
      prog = sys.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, encodeBpf(v2DeviceProgram(rules)), 'Apache-2.0', BPF_CGROUP_DEVICE);
      target = sys.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      sys.bpfProgAttach(target, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    } catch (error) {
      fail(error);
    } finally {
      if (target >= 0) sys.close(target);
      if (prog >= 0) sys.close(prog);
    }
  }

  private ownSyscalls: Syscalls | undefined;

  private rmdirQuietly(dir: string): boolean {
    try {
      rmdirSync(dir);
      return true;
    } catch {
      return false;
    }
  }
}
