import { closeSync, constants as fsc, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LinuxSyscalls, O_CLOEXEC, O_RDONLY, PrivateMountNamespace, isSyscallError, type FaultPlan, type Syscalls, type WaitResult } from '@berth/syscall';
import { NoSuchContainerError, type ImageRecord, type LayerStore } from '@berth/layers';
import { resolveSubpath, type VolumeStore } from '@berth/volumes';
import { Cgroups } from './cgroups/index.js';
import { LaunchPool } from './executor/pool.js';
import { BindSourceMissingError, LaunchError } from './errors.js';
import { checkBindPropagation } from './propagation.js';
import { execInitArguments, initFds } from './executor/init-args.js';
import { prepareNetworkNamespace } from './executor/tree.js';
import { planExec, planLaunch, type ResolvedMount } from './plan/index.js';
import { resolveMounts, type MountSpec } from './spec/index.js';
import { processStartTime, readStatusFile, signalName, statusFromWait } from './status.js';
import type {
  ContainerConfig, ExecRequest, ExitStatus, HostConfig, MountPoint, NetworkFiles, StartRequest, StartedContainer, StartedExec,
} from './runtime-types.js';

export interface RuntimeOptions {
  /** berth's root directory (layers, volumes and containers live under it). */
  root: string;
  layers: LayerStore;
  volumes: VolumeStore;
  /** Warm launch workers (default 2). */
  workers?: number;
  syscalls?: Syscalls;
  /** berth's own mount namespace; made here when not given. */
  mountNamespace?: PrivateMountNamespace;
  /** Cgroup under which `berth/<id>` cgroups are made (default: the supervisor's own). */
  cgroupParent?: string;
  /** The container init binary (default: the one this package builds). */
  initPath?: string;
}

export interface StartOptions {
  /** Fail the Nth syscall of this launch (fault-injection tests). */
  fault?: FaultPlan;
}

const DEFAULT_INIT = fileURLToPath(new URL('./berth-init', import.meta.url));
const POLL_MS = 50;
const WNOHANG = 1;

/**
 * The launch, as a library: resolves a container's mounts (creating and
 * referencing volumes), prepares its root filesystem, plans the launch as
 * data, and runs the plan on a warm worker thread.
 */
export class Runtime {
  private readonly cgroups: Cgroups;

  private constructor(
    private readonly options: RuntimeOptions,
    private readonly sys: Syscalls,
    readonly mountNamespace: PrivateMountNamespace,
    private readonly ownsNamespace: boolean,
    private readonly pool: LaunchPool,
    readonly initPath: string,
  ) {
    this.cgroups = Cgroups.detect(options.cgroupParent ? { parent: options.cgroupParent } : {});
  }

  static async open(options: RuntimeOptions): Promise<Runtime> {
    const sys = options.syscalls ?? new LinuxSyscalls();
    const initPath = options.initPath ?? DEFAULT_INIT;
    if (!existsSync(initPath)) {
      throw new Error(`failed to find the container init at ${initPath}: run \`npm run build\` (it needs a C compiler: apt-get install gcc)`);
    }
    const ownsNamespace = !options.mountNamespace;
    const ns = options.mountNamespace ?? PrivateMountNamespace.create(sys);
    const pool = new LaunchPool(options.workers === undefined ? {} : { workers: options.workers });
    return new Runtime(options, sys, ns, ownsNamespace, pool, initPath);
  }

  /** Checks a container's mount configuration without touching anything (for create). */
  validate(config: ContainerConfig, hostConfig: HostConfig, volumesFrom?: (ref: string) => MountPoint[]): MountSpec[] {
    const image = config.Image ? this.options.layers.findImage(config.Image) : undefined;
    return this.mountSpecs(config, hostConfig, image, volumesFrom);
  }

  async start(req: StartRequest, options: StartOptions = {}): Promise<StartedContainer> {
    const { layers, volumes } = this.options;
    const image = layers.inspectImage(req.image);
    const specs = this.mountSpecs(req.config, req.hostConfig, image, req.volumesFrom);
    const acquired: string[] = [];
    const createdAnonymous: string[] = [];
    let statusFd = -1;
    let net: HeldNetwork | undefined;
    try {
      const resolved = specs.map((spec) => this.resolveMount(req, spec, acquired, createdAnonymous));
      if (req.joinNetwork !== undefined) {
        // Another container's namespace: held for the launch only; that container owns its network.
        const fd = openSync(req.joinNetwork, 'r');
        net = { fd, path: `/proc/${process.pid}/fd/${fd}`, configured: false, joined: true };
      } else if (req.network) {
        net = this.holdNetworkNamespace();
        const files = await req.network.setup(net.path);
        net.configured = true;
        resolved.push(...networkFileMounts(files, resolved));
      }
      const rootfs = this.rootfsFor(req.id, image.id);
      const plan = planLaunch({
        containerId: req.id,
        image: image.config,
        config: req.config,
        hostConfig: req.hostConfig,
        mounts: resolved,
        rootfs,
        initPath: this.initPath,
        ...(this.options.cgroupParent ? { cgroupParent: this.options.cgroupParent } : {}),
        ...(net ? { networkProvided: true } : {}),
      });
      statusFd = openSync(req.statusPath, 'w', 0o600);
      const started = await this.pool.launch({
        plan,
        stdio: req.stdio,
        statusFd,
        berthNamespaceFd: this.mountNamespace.fd,
        ...(net ? { netFd: net.fd } : {}),
        ...(options.fault ? { fault: options.fault } : {}),
      });
      if (net?.joined) {
        closeSync(net.fd);
        net = undefined;
      }
      const anonymousVolumes = resolved.filter((m) => m.anonymous && m.volumeName).map((m) => m.volumeName!);
      return {
        id: req.id,
        pid: started.pid,
        startTime: started.startTime,
        setupMs: started.setupMs,
        // Docker lists no mount for the name files it binds.
        mounts: resolved.filter((m) => !m.networkFile).map(toMountPoint),
        anonymousVolumes,
        exited: this.afterNetwork(this.watchExit(started.pid, started.startTime, started.exitFd, started.cgroupPaths, req.statusPath), req, net),
      };
    } catch (error) {
      if (net) await this.releaseNetwork(req, net).catch(() => undefined);
      for (const name of acquired) volumes.release(name, req.id);
      for (const name of createdAnonymous) {
        try { volumes.remove(name); } catch { /* in use elsewhere or already gone */ }
      }
      throw error;
    } finally {
      if (statusFd >= 0) closeSync(statusFd);
    }
  }

  /**
   * `docker exec`: the init binary in exec mode joins the container's
   * namespaces (and cgroup) and runs the command there as a child in its pid
   * namespace; it reports like an init does (status file, exit pipe). No
   * worker is needed: the helper does its setns itself, single-threaded.
   */
  async exec(req: ExecRequest): Promise<StartedExec> {
    const what = `failed to exec in container ${req.id.slice(0, 12)}`;
    if (processStartTime(req.pid) !== req.startTime) throw new LaunchError(`${what}: it is not running`);
    const image = this.options.layers.inspectImage(req.image);
    const plan = planExec({ containerId: req.id, image: image.config, config: req.config, hostConfig: req.hostConfig, exec: req.exec });
    const [goRead, goFd] = this.sys.pipe2(O_CLOEXEC);
    const [exitFd, exitWrite] = this.sys.pipe2(O_CLOEXEC);
    const devNull = req.stdio.stdin === undefined ? openSync('/dev/null', fsc.O_RDONLY) : -1;
    let status = -1;
    let pid: number;
    try {
      status = openSync(req.statusPath, 'w', 0o600);
      const fds = initFds(req.stdio, devNull, plan.tty, { go: goRead, status, exit: exitWrite });
      pid = this.sys.spawn(this.initPath, [this.initPath, ...execInitArguments(plan, req.pid)], plan.env, { fds, cwd: '/', setsid: true });
    } catch (error) {
      closeSync(goFd);
      closeSync(exitFd);
      throw new LaunchError(`${what}: ${(error as Error).message}`, error);
    } finally {
      // The helper holds its own copies now; the go pipe's write end stays ours until "go".
      for (const fd of [goRead, exitWrite, devNull, status]) if (fd >= 0) closeSync(fd);
    }
    try {
      // The container's limits hold for what runs in it: its cgroup takes the helper, and so the command.
      this.cgroups.place(this.cgroups.fromPaths(this.cgroups.pathsFor(req.id).filter((p) => existsSync(p))), pid);
    } catch (error) {
      process.kill(pid, 'SIGKILL');
      for (const fd of [goFd, exitFd]) closeSync(fd);
      throw new LaunchError(`${what}: cannot join its cgroup: ${(error as Error).message}`, error);
    }
    const startTime = processStartTime(pid) ?? 0;
    try { writeSync(goFd, 'g'); } catch { /* EPIPE: already gone; the exit pipe tells the rest */ }
    closeSync(goFd);
    // The container's cgroup is not the exec's to remove: no cgroup paths here.
    return { pid, startTime, exited: this.watchExit(pid, startTime, exitFd, [], req.statusPath) };
  }

  /**
   * A fresh network namespace with loopback up, made on this thread (only
   * synchronous calls in between: the thread is back home before anything
   * else runs on it) and held by an fd until the container's teardown.
   */
  private holdNetworkNamespace(): HeldNetwork {
    const home = this.sys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC, 0);
    try {
      const fd = prepareNetworkNamespace(this.sys, home);
      return { fd, path: `/proc/${process.pid}/fd/${fd}`, configured: false };
    } finally {
      this.sys.close(home);
    }
  }

  /** The hook's teardown (if its setup ran), then the namespace is let go. */
  private async releaseNetwork(req: StartRequest, net: HeldNetwork): Promise<void> {
    try {
      if (net.configured) await req.network!.teardown(net.path);
    } finally {
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
   * Inits of this container that no caller ever learned about: a supervisor
   * killed in the middle of `start` (after the spawn, before it recorded
   * the pid). Found by their command line, `berth-init ID`; the caller ends
   * them by pid, then cleans up.
   */
  strayInits(id: string): number[] {
    // An init rewrites its arguments to "berth-init ID" before it waits for "go"; one that has
    // not yet done so cannot have run anything, and exits by itself when its starter is gone.
    const marker = `berth-init\0${id}\0`;
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').startsWith(marker)) found.push(Number(entry));
      } catch { /* gone */ }
    }
    return found;
  }

  /** The final status an init wrote, e.g. for a container that exited while no supervisor ran. */
  readStatus(statusPath: string): ExitStatus | undefined {
    return readStatusFile(statusPath);
  }

  /**
   * Releases what a removed container held: its volume references, its
   * anonymous volumes when asked (`--rm`, `rm -v`), its cgroup, its layer
   * directories. Everything but the directories is done on return; they are
   * renamed out of sight at once and deleted in the background, and the
   * promise resolves when they are gone (await it for Docker's `rm`
   * semantics, or not, to overlap the deletion with the next launch).
   */
  cleanup(id: string, opts: { removeAnonymousVolumes: boolean; anonymousVolumes: readonly string[]; removeLayers?: boolean }): Promise<void> {
    const { layers, volumes } = this.options;
    // Its anonymous volumes go with its references, in one transaction: a
    // crash in between cannot strand one.
    volumes.releaseAll(id, { removeAnonymous: opts.removeAnonymousVolumes });
    if (opts.removeAnonymousVolumes) {
      // Recorded ones whose references an interrupted earlier cleanup already dropped.
      for (const name of opts.anonymousVolumes) {
        try { volumes.remove(name); } catch { /* shared through --volumes-from, or already gone */ }
      }
    }
    const cgroup = this.cgroups.fromPaths(this.cgroups.pathsFor(id).filter((p) => existsSync(p)));
    this.cgroups.remove(cgroup);
    if (opts.removeLayers === false) return Promise.resolve();
    try {
      layers.removeContainer(id, { background: true });
    } catch { /* never prepared */ }
    return layers.idle();
  }

  async close(): Promise<void> {
    await this.pool.close();
    // The berth/ cgroup directories (made by the workers on first use) go
    // too when empty; rmdir refuses a cgroup that still has children or tasks,
    // so one still used by another supervisor stays.
    for (const dir of this.cgroups.berthDirs) {
      try { rmdirSync(dir); } catch { /* in use, or never made */ }
    }
    if (this.ownsNamespace) this.mountNamespace.close();
  }

  private mountSpecs(config: ContainerConfig, hostConfig: HostConfig, image: ImageRecord | undefined,
    volumesFrom?: (ref: string) => MountPoint[]): MountSpec[] {
    return resolveMounts({ Config: config, HostConfig: hostConfig } as never, {
      imageVolumes: Object.keys(image?.config.Volumes ?? {}),
      ...(volumesFrom ? { volumesFrom: (ref: string) => volumesFrom(ref).map(fromMountPoint) } : {}),
    });
  }

  private resolveMount(req: StartRequest, spec: MountSpec, acquired: string[], createdAnonymous: string[]): ResolvedMount {
    const { volumes } = this.options;
    if (spec.type === 'volume') {
      let name = spec.source;
      if (spec.anonymous || name === '') {
        const reuse = req.previousMounts?.find((m) => m.Type === 'volume' && m.Destination === spec.destination)?.Name;
        if (reuse && volumes.find(reuse)) name = reuse;
        else {
          name = volumes.create({}).Name;
          createdAnonymous.push(name);
        }
      } else if (!volumes.find(name)) {
        volumes.create({
          name,
          ...(spec.volumeDriver ? { driver: spec.volumeDriver } : {}),
          ...(spec.volumeLabels ? { labels: spec.volumeLabels } : {}),
          ...(spec.volumeOptions ? { options: spec.volumeOptions } : {}),
        });
      }
      const { dataDir } = volumes.acquire(name, req.id);
      acquired.push(name);
      if (spec.subpath !== undefined) {
        // Refused here with the volume store's clear errors (a container may
        // have planted a symlink); the worker resolves it again, race-free,
        // from an fd on the volume.
        this.sys.close(resolveSubpath(dataDir, spec.subpath, this.sys).fd);
      }
      return { spec, source: dataDir, volumeName: name, sourceIsFile: false, anonymous: spec.anonymous };
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
   * Resolves once the container is done. EOF on the init's exit pipe says
   * when, on this thread, whatever became of the worker that started it.
   * By then the init has ended every other process of the container and
   * written its status line, so the status is known while the kernel is
   * still tearing the namespaces down; the init is reaped (and its cgroup
   * removed) in the background. Without a status line (the init was
   * killed), the status is what its parent sees when reaping it.
   */
  private async watchExit(pid: number, startTime: number, exitFd: number, cgroupPaths: string[], statusPath: string): Promise<ExitStatus> {
    await new Promise<void>((resolve) => {
      const pipe = new Socket({ fd: exitFd, readable: true, writable: false });
      pipe.on('close', () => resolve());
      pipe.on('error', () => pipe.destroy());
      pipe.resume();
    });
    const cgroup = this.cgroups.fromPaths(cgroupPaths);
    let oom = false;
    try { oom = this.cgroups.oomKilled(cgroup); } catch { /* no cgroup */ }
    const reaped = this.reap(pid, startTime).then((waited) => {
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

  /**
   * Reaps the init. Its fds close before it becomes a zombie (the kernel
   * still tears down its namespaces in between), so poll briefly.
   */
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

interface HeldNetwork {
  fd: number;
  /** How netavark reaches it while this process holds it. */
  path: string;
  /** The hook's setup ran (so its teardown must). */
  configured: boolean;
  /** Another container's namespace (`container:<id>`): nothing to tear down. */
  joined?: boolean;
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

function toMountPoint(m: ResolvedMount): MountPoint {
  const { spec } = m;
  return {
    Type: spec.type,
    ...(m.volumeName ? { Name: m.volumeName, Driver: spec.volumeDriver || 'local' } : {}),
    Source: spec.type === 'tmpfs' ? '' : m.source,
    Destination: spec.destination,
    Mode: spec.type === 'volume' ? (spec.nocopy ? 'nocopy' : 'z') : '',
    RW: !spec.readOnly,
    Propagation: spec.type === 'bind' ? spec.propagation : '',
  };
}

function fromMountPoint(m: MountPoint): MountSpec {
  return {
    type: m.Type,
    source: m.Type === 'volume' ? (m.Name ?? '') : m.Source,
    destination: m.Destination,
    readOnly: !m.RW,
    propagation: 'rprivate',
    recursive: 'enabled',
    createSource: false,
    nocopy: true,
    anonymous: false,
  };
}

