import { closeSync, constants as fsc, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, LinuxSyscalls, MFD_ALLOW_SEALING, MFD_CLOEXEC, O_CLOEXEC, O_DIRECTORY,
  O_PATH, O_RDONLY, PrivateMountNamespace, isSyscallError, type FaultPlan, type Syscalls, type WaitResult,
} from '@berth/syscall';
import { NoSuchContainerError, type ImageRecord, type LayerStore } from '@berth/layers';
import { resolveSubpath, type VolumeStore } from '@berth/volumes';
import { ContainerFiles, viewMounts, type ArchiveTarget, type RootHandle } from './archive/index.js';
import { Cgroups, freeze, isFrozen, readRecordedV1Parents, recordV1Parents, thaw, updateLimits, type CgroupLimits } from './cgroups/index.js';
import { containerSample, type ContainerSample } from './cgroups/sample.js';
import { LaunchPool, type SandboxStats } from './executor/pool.js';
import { SANDBOX_CGROUP_PREFIX } from './executor/sandbox.js';
import { BindSourceMissingError, LaunchError } from './errors.js';
import { checkBindPropagation } from './propagation.js';
import { linuxHostDevices } from './host-devices.js';
import { execInitArguments, initFds, readPid } from './executor/init-args.js';
import { prepareNetworkNamespace } from './executor/tree.js';
import { DEFAULT_INIT_BINARY, planExec, planLaunch, type ResolvedMount } from './plan/index.js';
import type { MountSpec } from './spec/index.js';
import { resolveContainer } from './container/resolve.js';
import { readLastCap } from './security/resolve.js';
import { readBoundingSet } from './security/capabilities.js';
import { SeccompCache } from './security/seccomp-compile.js';
import type { ResolvedSecurity } from './security/types.js';
import type { ContainerSpec, CreateRequest, HostConfig, ImageFacts } from './container/types.js';
import { processStartTime, readShimState, readStatusFile, signalName, statusFromWait } from './status.js';
import type {
  AdoptedContainer, ExecRequest, ExitStatus, MountPoint, NetworkFiles, ProcessRef, StartRequest, StartedContainer, StartedExec,
} from './runtime-types.js';

export interface RuntimeOptions {
  /** berth's root directory (layers, volumes and containers live under it). */
  root: string;
  layers: LayerStore;
  volumes: VolumeStore;
  /** Warm launch workers (default 2). */
  workers?: number;
  /**
   * Sandboxes each worker keeps built ahead for its recent launches (default
   * 2; 0 turns them off, and every launch builds its container inline).
   */
  sandboxes?: number;
  syscalls?: Syscalls;
  /** berth's own mount namespace; made here when not given. */
  mountNamespace?: PrivateMountNamespace;
  /** Cgroup under which `berth/<id>` cgroups are made (default: the supervisor's own). */
  cgroupParent?: string;
  /** The shim binary, berth-init (default: the one this package builds). */
  initPath?: string;
  /** What `HostConfig.Init` binds at /sbin/docker-init (default: Debian's /usr/bin/tini-static). */
  initBinary?: string;
}

export interface CreateOptions {
  /** The new container's id (64 hex characters). */
  id: string;
  /** The image, when the caller already looked it up; else the layer store is asked for `Config.Image`. */
  image?: ImageFacts;
  /** The stored mounts of another container, for `--volumes-from`; undefined when there is no such container. */
  volumesFrom?: (ref: string) => readonly MountSpec[] | undefined;
  /** The caller attaches the container to its networks (ports, DNS, links are its to honour). */
  networksByCaller?: boolean;
}

export interface StartOptions {
  /** Fail the Nth syscall of this launch (fault-injection tests); the launch is then built inline. */
  fault?: FaultPlan;
  /** Fail the Nth syscall of this launch if a sandbox serves it (fault-injection tests of sandboxes.ts). */
  sandboxFault?: FaultPlan;
}

const DEFAULT_INIT = fileURLToPath(new URL('./berth-init', import.meta.url));
const POLL_MS = 50;
/** In the runtime's root: the v1 cgroup parents its containers go under (parents-record.ts). */
const CGROUP_PARENTS_FILE = 'cgroup-parents.json';
const WNOHANG = 1;

/**
 * The launch, as a library: resolves a container's mounts (creating and
 * referencing volumes), prepares its root filesystem, plans the launch as
 * data, and runs the plan on a warm worker thread.
 */
export class Runtime {
  private readonly cgroups: Cgroups;
  /** v1: the parent of berth/ per hierarchy, resolved at open; every launch's plan carries it to the workers. */
  private readonly cgroupV1Parents: Readonly<Record<string, string>>;
  /** Compiled seccomp filters, one BPF file per profile and capability set, made once. */
  private readonly seccomp: SeccompCache;
  /**
   * Host facts every create reads, read once (os.cpus() parses /proc/cpuinfo:
   * ~0.4 ms a launch in the profile). Fixed for the process, as dockerd's
   * NumCPU and capability probe are.
   */
  private readonly hostFacts: { hostCpus: number; lastCap: number; boundingSet?: Set<number> };
  /** `docker cp` and the archive endpoints: stat, archive and extract inside a container's root. */
  readonly files: ContainerFiles;

  private constructor(
    private readonly options: RuntimeOptions,
    private readonly sys: Syscalls,
    readonly mountNamespace: PrivateMountNamespace,
    private readonly ownsNamespace: boolean,
    private readonly pool: LaunchPool,
    readonly initPath: string,
    /** A sealed in-memory copy of the shim binary, executed instead of the file. */
    private readonly sealedInit: number,
  ) {
    // v1: the parents the last supervisor of this root used, where they still exist (parents-record.ts).
    const parentsFile = join(options.root, CGROUP_PARENTS_FILE);
    const recorded = readRecordedV1Parents(parentsFile);
    this.cgroups = Cgroups.detect({
      ...(options.cgroupParent ? { parent: options.cgroupParent } : {}),
      ...(recorded ? { recordedV1Parents: recorded } : {}),
    });
    this.cgroupV1Parents = this.cgroups.v1Parents;
    if (!options.cgroupParent) recordV1Parents(parentsFile, this.cgroupV1Parents, recorded);
    // A killed supervisor's parked sandboxes exit with it (EOF on their control sockets); their cgroups stay.
    this.cgroups.removeEmpty(SANDBOX_CGROUP_PREFIX);
    this.seccomp = new SeccompCache(options.root);
    const boundingSet = readBoundingSet();
    this.hostFacts = { hostCpus: cpus().length, lastCap: readLastCap(), ...(boundingSet ? { boundingSet } : {}) };
    this.files = new ContainerFiles(sys, (t) => this.openRoot(t));
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const sys = options.syscalls ?? new LinuxSyscalls();
    const initPath = options.initPath ?? DEFAULT_INIT;
    if (!existsSync(initPath)) {
      throw new Error(`failed to find the container init at ${initPath}: run \`npm run build\` (it needs a C compiler: apt-get install gcc)`);
    }
    const ownsNamespace = !options.mountNamespace;
    const ns = options.mountNamespace ?? PrivateMountNamespace.create(sys);
    const sealed = sealedCopy(sys, initPath);
    const pool = new LaunchPool({
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.sandboxes === undefined ? {} : { sandboxes: options.sandboxes }),
    });
    return new Runtime(options, sys, ns, ownsNamespace, pool, initPath, sealed);
  }

  /**
   * What is executed for a shim: the sealed copy. The stub, forked from the
   * shim, is briefly inside the container; its /proc/1/exe is then this
   * memfd, which nobody can write (runc's fix for CVE-2019-5736), never the
   * host file.
   */
  private get shimPath(): string {
    return `/proc/self/fd/${this.sealedInit}`;
  }

  /**
   * `docker create`: a create request (a body `parseCreateBody` checked)
   * becomes the container's resolved record, and what it names is
   * made to exist: named volumes are created when missing and every volume
   * is referenced by the container (so `volume rm` refuses it, as Docker
   * does, from create on), anonymous volumes are created and named, and a
   * `--mount type=bind` source must exist. Store the result; `start` takes it.
   * On failure nothing it made is left.
   */
  create(req: CreateRequest, options: CreateOptions): ContainerSpec {
    const { layers, volumes } = this.options;
    const image = options.image ?? imageFacts(layers.inspectImage(req.config.Image));
    const spec = resolveContainer(req, {
      id: options.id, image, hostHostname: hostname(), ...this.hostFacts,
      ...(options.volumesFrom ? { volumesFrom: options.volumesFrom } : {}),
      ...(options.networksByCaller ? { networksByCaller: true } : {}),
    });
    const acquired: string[] = [];
    const createdAnonymous: string[] = [];
    try {
      const volumeMounts = spec.mounts.filter((m) => m.type === 'volume');
      for (const m of spec.mounts) {
        if (m.type === 'bind') {
          // `-v` creates a missing source at start, as Docker; `--mount` needs it now.
          if (!m.createSource && !existsSync(m.source)) throw new BindSourceMissingError(m.source);
          continue;
        }
        if (m.type !== 'volume') continue;
        const settings = {
          ...(m.volumeDriver ? { driver: m.volumeDriver } : {}),
          ...(m.volumeLabels ? { labels: m.volumeLabels } : {}),
          ...(m.volumeOptions ? { options: m.volumeOptions } : {}),
        };
        if (m.source === '') {
          m.source = volumes.create(settings).Name;
          createdAnonymous.push(m.source);
        } else if (!volumes.find(m.source)) {
          volumes.create({ name: m.source, ...settings });
        }
      }
      // Every reference in one transaction: all are held, or none.
      const held = volumes.acquireAll(volumeMounts.map((m) => m.source), options.id);
      acquired.push(...held.map((v) => v.name));
      volumeMounts.forEach((m, i) => {
        if (m.subpath !== undefined) {
          // Refused now with the volume store's clear errors; the worker resolves it again, race-free, at start.
          this.sys.close(resolveSubpath(held[i]!.dataDir, m.subpath, this.sys).fd);
        }
      });
    } catch (error) {
      for (const name of acquired) volumes.release(name, options.id);
      for (const name of createdAnonymous) {
        try { volumes.remove(name); } catch { /* already gone */ }
      }
      throw error;
    }
    return spec;
  }

  /** Docker's `Mounts` of inspect and `ps`, from a container's resolved mounts. */
  mountPoints(mounts: readonly MountSpec[]): MountPoint[] {
    return mounts.filter((m) => m.unlisted !== true).map((m) => toMountPoint(m, this.options.volumes.volumesDir));
  }

  async start(req: StartRequest, options: StartOptions = {}): Promise<StartedContainer> {
    const { spec } = req;
    let statusFd = -1;
    let net: HeldNetwork | undefined;
    let linkEnv: readonly string[] = [];
    try {
      const resolved = spec.mounts.map((m) => this.bindSource(req.id, m));
      if (req.joinNetwork !== undefined) {
        // Another container's namespace: held for the launch only; that container owns its network.
        const fd = openSync(req.joinNetwork, 'r');
        net = { fd, path: `/proc/${process.pid}/fd/${fd}`, configured: false, joined: true };
      } else if (req.network) {
        net = this.holdNetworkNamespace(req.id);
        const files = await req.network.setup(net.path, net.holder!);
        net.configured = true;
        resolved.push(...networkFileMounts(files, resolved));
        linkEnv = files.linkEnv ?? [];
      }
      const rootfs = this.rootfsFor(req.id, spec.imageId);
      const plan = planLaunch({
        containerId: req.id,
        config: spec.config,
        hostConfig: spec.hostConfig,
        mounts: resolved,
        rootfs,
        initPath: this.initPath,
        hostCpus: this.hostFacts.hostCpus,
        initBinary: this.initBinary(spec.hostConfig),
        ...(this.options.cgroupParent ? { cgroupParent: this.options.cgroupParent } : { cgroupV1Parents: this.cgroupV1Parents }),
        hostDevices: linuxHostDevices,
        ...(req.namespaceDonors ? { namespaceDonors: req.namespaceDonors } : {}),
        security: spec.security,
        ...(await this.seccompPath(spec.security)),
        ...(net ? { networkProvided: true } : {}),
        ...(linkEnv.length > 0 ? { linkEnv } : {}),
      });
      statusFd = openSync(req.statusPath, 'w', 0o600);
      const saturated = this.young.size >= this.hostFacts.hostCpus;
      const started = await this.pool.launch({
        saturated,
        plan,
        stdio: req.stdio,
        statusFd,
        shimPath: this.shimPath,
        berthNamespaceFd: this.mountNamespace.fd,
        ...(net ? { netFd: net.fd } : {}),
        ...(options.fault ? { fault: options.fault } : {}),
        ...(options.sandboxFault ? { sandboxFault: options.sandboxFault } : {}),
      }).catch((error: unknown) => {
        // A shim that failed before forking wrote why to its status file.
        const reason = readStatusFile(req.statusPath)?.error;
        throw reason && error instanceof LaunchError ? new LaunchError(`${error.message}: ${reason}`, error) : error;
      });
      if (net?.joined) {
        closeSync(net.fd);
        net = undefined;
      }
      const exited = this.afterNetwork(this.watchExit(started.shim, started.exitFd, started.cgroupPaths, req.statusPath), req, net);
      this.noteYoung(exited);
      return {
        id: req.id,
        pid: started.pid,
        startTime: started.startTime,
        shim: started.shim,
        setupMs: started.setupMs,
        sandboxed: started.sandboxed,
        exited,
      };
    } catch (error) {
      if (net) await this.releaseNetwork(req, net).catch(() => undefined);
      throw error;
    } finally {
      if (statusFd >= 0) closeSync(statusFd);
    }
  }

  /**
   * `docker exec`: the shim in its exec role stays on the host, outside the
   * container's pid namespace; its stub joins the container's namespaces
   * (and cgroup) and execs the command, which is the shim's child, never a
   * child of the container's PID 1. It reports like a container's shim
   * (status file, exit pipe). No worker is needed: the shim does its setns
   * itself, single-threaded.
   */
  async exec(req: ExecRequest): Promise<StartedExec> {
    const what = `failed to exec in container ${req.id.slice(0, 12)}`;
    if (processStartTime(req.pid) !== req.startTime) throw new LaunchError(`${what}: it is not running`);
    const plan = planExec({
      containerId: req.id, config: req.config, exec: req.exec,
      ...(req.linkEnv && req.linkEnv.length > 0 ? { linkEnv: req.linkEnv } : {}),
      ...(req.security ? { security: req.security, ...(await this.seccompPath(req.security)) } : {}),
    });
    const [goRead, goFd] = this.sys.pipe2(O_CLOEXEC);
    const [exitFd, exitWrite] = this.sys.pipe2(O_CLOEXEC);
    const [pidFd, pidWrite] = this.sys.pipe2(O_CLOEXEC);
    const devNull = req.stdio.stdin === undefined ? openSync('/dev/null', fsc.O_RDONLY) : -1;
    let status = -1;
    let shimPid: number;
    try {
      status = openSync(req.statusPath, 'w', 0o600);
      const fds = initFds(req.stdio, devNull, plan.tty, { go: goRead, status, exit: exitWrite, pid: pidWrite });
      shimPid = this.sys.spawn(this.shimPath, [this.initPath, ...execInitArguments(plan, req.pid)], plan.env, { fds, cwd: '/', setsid: true });
    } catch (error) {
      for (const fd of [goFd, exitFd, pidFd]) closeSync(fd);
      throw new LaunchError(`${what}: ${(error as Error).message}`, error);
    } finally {
      // The shim holds its own copies now; the go pipe's write end stays ours until "go".
      for (const fd of [goRead, exitWrite, pidWrite, devNull, status]) if (fd >= 0) closeSync(fd);
    }
    const shim = { pid: shimPid, startTime: processStartTime(shimPid) ?? 0 };
    const pid = await readPid(pidFd);
    if (pid === undefined) {
      closeSync(goFd);
      const reported = await this.watchExit(shim, exitFd, [], req.statusPath);
      throw new LaunchError(`${what}: ${reported.error ?? `the shim exited with ${reported.exitCode}`}`);
    }
    try {
      // The container's limits hold for what runs in it: its cgroup takes the stub, and so the command.
      this.cgroups.place(this.cgroups.fromPaths(this.cgroups.pathsFor(req.id).filter((p) => existsSync(p))), pid);
    } catch (error) {
      process.kill(pid, 'SIGKILL');
      closeSync(goFd);
      void this.watchExit(shim, exitFd, [], req.statusPath);
      throw new LaunchError(`${what}: cannot join its cgroup: ${(error as Error).message}`, error);
    }
    const startTime = processStartTime(pid) ?? 0;
    try { writeSync(goFd, 'g'); } catch { /* EPIPE: already gone; the exit pipe tells the rest */ }
    closeSync(goFd);
    // The container's cgroup is not the exec's to remove: no cgroup paths here.
    return { pid, startTime, shim, exited: this.watchExit(shim, exitFd, [], req.statusPath) };
  }

  /**
   * An fd on a container's root: a running one's through /proc/<pid>/root of
   * its init (checked to be the same process after the open), a stopped
   * one's in a throwaway view a worker mounts (see worker.ts `openView`).
   */
  private async openRoot(t: ArchiveTarget): Promise<RootHandle> {
    if (t.running) {
      let fd = -1;
      try {
        fd = this.sys.open(`/proc/${t.running.pid}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      } catch { /* exited meanwhile: its files are still there, through a view */ }
      if (fd >= 0 && processStartTime(t.running.pid) === t.running.startTime) {
        return { fd, release: () => this.sys.close(fd) };
      }
      if (fd >= 0) this.sys.close(fd);
    }
    const image = this.options.layers.inspectImage(t.imageId);
    const view = await this.pool.openView({
      rootfs: this.rootfsFor(t.id, image.id), mounts: viewMounts(t.mounts), berthNamespaceFd: this.mountNamespace.fd,
    });
    return {
      fd: view.rootFd,
      release: () => {
        this.sys.close(view.rootFd);
        this.sys.close(view.namespaceFd);
      },
    };
  }

  /**
   * A fresh network namespace with loopback up, made on this thread (only
   * synchronous calls in between: the thread is back home before anything
   * else runs on it) and held by an fd until the container's teardown.
   */
  private holdNetworkNamespace(id: string): HeldNetwork {
    const home = this.sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC, 0);
    let fd: number;
    try {
      fd = prepareNetworkNamespace(this.sys, home);
    } finally {
      this.sys.close(home);
    }
    try {
      const holder = spawnNetnsHolder(id, fd);
      return { fd, path: `/proc/${holder.pid}/fd/3`, configured: false, holder };
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** The hook's teardown (if its setup ran), then the namespace is let go: the holder ended, the fd closed. */
  private async releaseNetwork(req: StartRequest, net: HeldNetwork): Promise<void> {
    try {
      if (net.configured) await req.network!.teardown(net.path);
    } finally {
      if (net.holder) releaseNetnsHolder(net.holder);
      closeSync(net.fd);
    }
  }

  /** The exit is reported once the container's network is torn down, as Docker's `die` comes after it. */
  private async afterNetwork(exited: Promise<ExitStatus>, req: StartRequest, net: HeldNetwork | undefined): Promise<ExitStatus> {
    const status = await exited;
    if (net) {
      try {
        await this.releaseNetwork(req, net);
      } catch (error) {
        console.error(`berth: ${(error as Error).message}`);
      }
    }
    return status;
  }

  /** The container's root filesystem mount, preparing its layers on its first start. */
  private rootfsFor(id: string, imageId: string) {
    const { layers } = this.options;
    try {
      return layers.mountFor(id);
    } catch (error) {
      // Only "never prepared" means prepare it; any other error is the real one.
      if (!(error instanceof NoSuchContainerError)) throw error;
      return layers.prepareContainer(id, imageId).rootfs;
    }
  }


  /**
   * The container PID 1 of a start that no caller ever learned about (a
   * supervisor killed in the middle of `start`, after the spawn, before it
   * recorded the pid), found by the state its shim wrote to the status file
   * before the container could run anything. The caller ends it by pid (its
   * shim then reports and exits), then cleans up.
   */
  strayInits(statusPath: string): number[] {
    const state = readShimState(statusPath);
    return state && processStartTime(state.pid) === state.startTime ? [state.pid] : [];
  }

  /**
   * Re-adoption after a supervisor restart: the container a shim recorded in
   * `statusPath`, and its exit, which resolves once the shim has written the
   * final status and exited (polled: the shim is no longer our child).
   * Undefined when the file records no shim.
   */
  adopt(statusPath: string): AdoptedContainer | undefined {
    const state = readShimState(statusPath);
    if (!state) return undefined;
    // Its id, from its shim's name (`berth-shim ID`): its cgroup goes when it exits, as a launch's does.
    const id = shimContainerId(state.shim);
    const exited = (async (): Promise<ExitStatus> => {
      while (processStartTime(state.shim.pid) === state.shim.startTime) await sleep(POLL_MS);
      if (id !== undefined) this.releaseCgroup(id);
      return readStatusFile(statusPath) ?? {
        exitCode: 137, oomKilled: false,
        error: 'the exit status was lost: the shim ended without writing it (was it killed?)',
      };
    })();
    return { pid: state.pid, startTime: state.startTime, shim: state.shim, exited };
  }

  /** The final status a shim wrote, e.g. for a container that exited while no supervisor ran. */
  readStatus(statusPath: string): ExitStatus | undefined {
    return readStatusFile(statusPath);
  }

  /** Removes an exited container's cgroup, if it has one and it is empty (else `cleanup` does at removal). */
  releaseCgroup(id: string): void {
    try {
      this.cgroups.remove(this.cgroups.fromPaths(this.cgroups.pathsFor(id).filter((p) => existsSync(p))));
    } catch { /* still busy (the shim not reaped yet): removed by the launch's watch or at cleanup */ }
  }

  /**
   * Releases what a removed container held: its volume references, its
   * anonymous volumes when asked (`--rm`, `rm -v`), its cgroup, its layer
   * directories. Everything but the directories is done on return; they are
   * renamed out of sight at once and deleted in the background. The promise
   * resolves when they are gone, unless `waitForDeletion` is false: then it
   * resolves at once and the layer store's `idle()` tracks the deletion (the
   * supervisor's removal answers without it: its record, name and layer
   * record are gone, and a crash leaves only a `.del-*` directory that the
   * next start deletes).
   */
  cleanup(id: string, opts: { removeAnonymousVolumes: boolean; anonymousVolumes?: readonly string[]; removeLayers?: boolean; waitForDeletion?: boolean }): Promise<void> {
    const { layers, volumes } = this.options;
    // Its anonymous volumes go with its references, in one transaction: a
    // crash in between cannot strand one.
    volumes.releaseAll(id, { removeAnonymous: opts.removeAnonymousVolumes });
    if (opts.removeAnonymousVolumes) {
      // Recorded ones whose references an interrupted earlier cleanup already dropped.
      // One transaction; one still shared through --volumes-from, or already gone, is skipped.
      if (opts.anonymousVolumes !== undefined && opts.anonymousVolumes.length > 0) volumes.removeMany(opts.anonymousVolumes);
    }
    const cgroup = this.cgroups.fromPaths(this.cgroups.pathsFor(id).filter((p) => existsSync(p)));
    this.cgroups.remove(cgroup);
    if (opts.removeLayers === false) return Promise.resolve();
    try {
      layers.removeContainer(id, { background: true });
    } catch { /* never prepared */ }
    return opts.waitForDeletion === false ? Promise.resolve() : layers.idle();
  }

  /**
   * `docker stats`: one reading of the container's cgroup, the host's CPU
   * time, and (when `netPid` is given) the interfaces of that process's
   * network namespace. A container without a cgroup reads as zeros.
   */
  stats(id: string, netPid?: number): ContainerSample {
    return containerSample(this.cgroups, id, netPid);
  }

  /** `docker pause`: freeze every process of the container. */
  pause(id: string): Promise<void> {
    return freeze(this.cgroups, id);
  }

  /** `docker unpause`, and the thaw after a stop or kill signal (the v1 freezer holds killed tasks). */
  unpause(id: string): Promise<void> {
    return thaw(this.cgroups, id);
  }

  /** Whether the container's cgroup is frozen: the kernel's state, so it survives a supervisor restart. */
  isPaused(id: string): boolean {
    try {
      return isFrozen(this.cgroups, id);
    } catch {
      return false;
    }
  }

  /** `docker update` of a running container: new limits into its cgroup (computed by `resourceLimits`). */
  updateLimits(id: string, limits: CgroupLimits): void {
    updateLimits(this.cgroups, id, limits);
  }

  /** Containers started less than a second ago and not exited yet (the launch's `saturated`). */
  private readonly young = new Set<Promise<unknown>>();

  private noteYoung(exited: Promise<unknown>): void {
    this.young.add(exited);
    const forget = (): void => { this.young.delete(exited); };
    const timer = setTimeout(forget, 1000);
    timer.unref();
    void exited.then(forget, forget).finally(() => clearTimeout(timer));
  }

  /** What the sandboxes did until `close` (built, used, discarded, ms spent building), for the bench. */
  sandboxStats: SandboxStats | undefined;

  async close(): Promise<void> {
    this.sandboxStats = await this.pool.close();
    // The berth/ cgroup directories (made by the workers on first use) go
    // too when empty; rmdir refuses a cgroup that still has children or tasks,
    // so one still used by another supervisor stays.
    for (const dir of this.cgroups.berthDirs) {
      try { rmdirSync(dir); } catch { /* in use, or never made */ }
    }
    if (this.ownsNamespace) this.mountNamespace.close();
    this.sys.close(this.sealedInit);
  }

  /** The docker-init `HostConfig.Init` needs, checked here: planLaunch is pure. */
  /** The compiled filter of a container's seccomp choice (compiled on first use, then a lookup); none when unconfined. */
  private async seccompPath(security: ResolvedSecurity): Promise<{ seccompPath?: string }> {
    const path = await this.seccomp.pathFor(security.seccomp, security.capabilities.names);
    return path === null ? {} : { seccompPath: path };
  }

  private initBinary(hostConfig: HostConfig): string {
    const path = this.options.initBinary ?? DEFAULT_INIT_BINARY;
    if (hostConfig.Init === true && !existsSync(path)) {
      throw new LaunchError(`failed to start container: --init needs docker-init at ${path}: install it (apt-get install tini)`);
    }
    return path;
  }

  /**
   * A stored mount bound to what backs it now: a volume's data directory
   * (the reference exists since create: only read, unless a driver-option
   * volume that a supervisor restart left unmounted needs mounting), a bind's
   * source (a `-v` source is created when missing, as Docker does at start).
   */
  private bindSource(id: string, spec: MountSpec): ResolvedMount {
    const { volumes } = this.options;
    if (spec.type === 'volume') {
      const dataDir = volumes.dataDirFor(spec.source, id);
      return { spec, source: dataDir, volumeName: spec.source, sourceIsFile: false, anonymous: spec.anonymous };
    }
    if (spec.type === 'bind') {
      let stat = statOrUndefined(spec.source);
      if (!stat) {
        if (!spec.createSource) throw new BindSourceMissingError(spec.source);
        mkdirSync(spec.source, { recursive: true, mode: 0o755 });
        stat = statSync(spec.source);
      }
      if (spec.propagation !== 'rprivate' && spec.propagation !== 'private') {
        checkBindPropagation(realpathSync(spec.source), spec.propagation, readFileSync('/proc/self/mountinfo', 'utf8'));
      }
      return { spec, source: spec.source, sourceIsFile: !stat.isDirectory(), anonymous: false };
    }
    return { spec, source: 'tmpfs', sourceIsFile: false, anonymous: false };
  }

  /**
   * Resolves once the container is done. EOF on the shim's exit pipe says
   * when, on this thread, whatever became of the worker that started it.
   * The shim is outside the container: it closes the pipe as soon as PID 1
   * is reaped (by then the kernel has ended every other process of the pid
   * namespace) and the status line is written, without waiting for the
   * namespaces' teardown. The shim is reaped (and the cgroup removed) in the
   * background. Without a status line (the shim was killed), the status is
   * what its parent sees when reaping it.
   */
  private async watchExit(shim: ProcessRef, exitFd: number, cgroupPaths: string[], statusPath: string): Promise<ExitStatus> {
    await new Promise<void>((resolve) => {
      const pipe = new Socket({ fd: exitFd, readable: true, writable: false });
      pipe.on('close', () => resolve());
      pipe.on('error', () => pipe.destroy());
      pipe.resume();
    });
    const cgroup = this.cgroups.fromPaths(cgroupPaths);
    let oom = false;
    try { oom = this.cgroups.oomKilled(cgroup); } catch { /* no cgroup */ }
    const reaped = this.reap(shim.pid, shim.startTime).then((waited) => {
      try { this.cgroups.remove(cgroup); } catch { /* still busy: removed at cleanup */ }
      return waited;
    });
    const reported = readStatusFile(statusPath, oom);
    if (reported) {
      reaped.catch(() => undefined);
      return reported;
    }
    const waited = await reaped;
    return statusFromWait(waited.code, waited.signal === null ? null : signalName(waited.signal), oom);
  }

  /** Reaps the shim; it exits right after closing its exit pipe, so poll briefly. */
  private async reap(pid: number, startTime: number): Promise<WaitResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        const waited = this.sys.waitpid(pid, WNOHANG);
        if (waited.pid !== 0) return waited;
      } catch (error) {
        // Not our child (reaped elsewhere): fall back to watching the pid.
        if (!isSyscallError(error, 'ECHILD')) throw error;
        while (processStartTime(pid) === startTime) await sleep(POLL_MS);
        return { pid, code: null, signal: null };
      }
      if (attempt < 20) await new Promise((resolve) => setImmediate(resolve));
      else await sleep(attempt < 200 ? 1 : POLL_MS);
    }
  }
}

/** A sealed in-memory copy of the shim binary (memfd_create + F_SEAL_*), made once per runtime. */
function sealedCopy(sys: Syscalls, path: string): number {
  const fd = sys.memfdCreate('berth-init', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  try {
    const image = readFileSync(path);
    for (let off = 0; off < image.length;) off += writeSync(fd, image, off, image.length - off);
    sys.addSeals(fd, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
    return fd;
  } catch (error) {
    sys.close(fd);
    throw new LaunchError(`failed to seal a copy of the container shim ${path}: ${(error as Error).message}`, error);
  }
}


interface HeldNetwork {
  fd: number;
  /** How netavark reaches it: through the holder (bridge networks), or this process's fd (`container:`). */
  path: string;
  /** The process that keeps a bridge namespace reachable past a SIGKILL of this one. */
  holder?: ProcessRef;
  /** The hook's setup ran (so its teardown must). */
  configured: boolean;
  /** Another container's namespace (`container:<id>`): nothing to tear down. */
  joined?: boolean;
}

/** The container id a running shim names itself by (`berth-shim ID`), if that pid is still the shim. */
function shimContainerId(shim: ProcessRef): string | undefined {
  try {
    const id = /^berth-shim\0([0-9a-f]{64})\0/.exec(readFileSync(`/proc/${shim.pid}/cmdline`, 'latin1'))?.[1];
    return id !== undefined && processStartTime(shim.pid) === shim.startTime ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A process that only holds a network namespace open (its fd 3): `sleep
 * infinity` in a session of its own, shown as `berth-netns ID`. It is not
 * this process's to wait for: a supervisor SIGKILLed while the container
 * exits leaves it, and the next one tears down through it, then ends it.
 */
function spawnNetnsHolder(id: string, fd: number): ProcessRef {
  const child = spawn('/bin/sleep', ['infinity'], { argv0: `berth-netns ${id}`, stdio: ['ignore', 'ignore', 'ignore', fd], detached: true });
  child.unref();
  const startTime = child.pid === undefined ? undefined : processStartTime(child.pid);
  if (child.pid === undefined || startTime === undefined) {
    if (child.pid !== undefined) child.kill('SIGKILL');
    throw new LaunchError(`failed to start the network namespace holder of ${id}`);
  }
  return { pid: child.pid, startTime };
}

/**
 * The namespace holders running on this host (`berth-netns ID` processes),
 * with their containers' ids. A supervisor killed between spawning a holder
 * and recording it leaves one that no record names; its start finds it here.
 */
export function runningNetnsHolders(): Array<ProcessRef & { id: string }> {
  const out: Array<ProcessRef & { id: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const id = /^berth-netns ([0-9a-f]{64})\0/.exec(cmdline)?.[1];
    const pid = Number(name);
    const startTime = id === undefined ? undefined : processStartTime(pid);
    if (id !== undefined && startTime !== undefined) out.push({ id, pid, startTime });
  }
  return out;
}

/** Ends a namespace holder, only if that pid is still the same process. */
export function releaseNetnsHolder(holder: ProcessRef): void {
  if (processStartTime(holder.pid) !== holder.startTime) return;
  try { process.kill(holder.pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
}

/**
 * Docker binds its name files over the image's; a user mount at the same
 * destination wins (Docker skips its own then).
 */
function networkFileMounts(files: NetworkFiles, user: readonly ResolvedMount[]): ResolvedMount[] {
  const taken = new Set(user.map((m) => m.spec.destination));
  const out: ResolvedMount[] = [];
  for (const [destination, source] of [['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf], ['/etc/hostname', files.hostname]] as const) {
    if (source === undefined || taken.has(destination)) continue;
    out.push({
      spec: {
        type: 'bind', source, destination, readOnly: false, propagation: 'rprivate', recursive: 'enabled',
        createSource: false, nocopy: true, anonymous: false,
      },
      source, sourceIsFile: true, anonymous: false, networkFile: true,
    });
  }
  return out;
}

function statOrUndefined(path: string) {
  try { return statSync(path); } catch { return undefined; }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toMountPoint(m: MountSpec, volumesDir: string): MountPoint {
  return {
    Type: m.type,
    ...(m.type === 'volume' ? { Name: m.source } : {}),
    Source: m.type === 'volume' ? join(volumesDir, m.source, '_data') : m.type === 'bind' ? m.source : '',
    Destination: m.destination,
    ...(m.type === 'volume' ? { Driver: m.volumeDriver || 'local' } : {}),
    Mode: m.mode ?? '',
    RW: !m.readOnly,
    Propagation: m.type === 'bind' ? m.propagation : '',
  };
}

/** The facts of a layer-store image a container is resolved against. */
export function imageFacts(image: ImageRecord): ImageFacts {
  return { id: image.id, config: image.config as ImageFacts['config'] };
}
