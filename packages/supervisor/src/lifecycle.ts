import { EventEmitter } from 'node:events';
import { closeSync, rmSync } from 'node:fs';
import type { Syscalls } from '@berth/syscall';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { parseCreateBody, type ImageFacts, type NamespaceDonors } from '@berth/runtime';
import { ContainerStore as Store } from './container-store.js';
import type { ContainerEngine, ExitStatus, ImageService, MountPoint, MountSpec } from './engine.js';
import { ConflictError, errorMessage, InvalidParameterError, NoSuchContainerError, NotModifiedError } from './errors.js';
import type { LogRecord } from './json-log.js';
import { generateName, newContainerId, normalizeName } from './names.js';
import { parseSignal, signalProcess } from './process-control.js';
import { processStartTime } from '@berth/syscall';
import { parseLogConfig } from './log-config.js';
import { validateHealthcheck } from './health.js';
import { nextRestartDelay, parseRestartPolicy, shouldRestart } from './restart-policy.js';
import { OutputFollower } from './output-follower.js';
import { EventBus } from './events.js';
import type { NetworkService } from './networks.js';
import { ExecSessions } from './exec.js';
import { HealthMonitor } from './health.js';
import { StdinPipe } from './stdin.js';
import { type ContainerPaths, containerPaths, openStdioForStart, removeRawOutput } from './stdio.js';
import { openTerminalSize, parseConsoleSize, resizeTerminal } from './terminal.js';
import { Trash } from '@berth/layers';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

export interface Waiter {
  result: Promise<WaitResult>;
  /** Forget the waiter (its client went away). */
  cancel(): void;
}

interface PendingWait {
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

/** A running container the supervisor watches. `done` resolves once it is fully exited and recorded. */
interface Live {
  output: OutputFollower;
  pid: number;
  startTime: number;
  done: Promise<void>;
  stopPolling?: () => void;
}

export interface LifecycleOptions {
  root: string;
  store: ContainerStore;
  engine: ContainerEngine;
  images: ImageService;
  syscalls: Syscalls;
  /** How often re-adopted containers (no longer our children) are checked for exit, and output files polled. */
  pollIntervalMs?: number;
  /** Networks (@berth/networks); without it containers get Docker's modes but only loopback. */
  networks?: NetworkService;
  /** Where a removed container's own directory goes (default: one of its own; the supervisor shares one). */
  trash?: Trash;
}

/**
 * Container lifecycles: create, start, wait, stop, kill, remove, auto-remove
 * and the re-adoption of containers that outlived a previous supervisor.
 * One lifecycle operation per method; the API layer only translates HTTP.
 */
export class Lifecycle {
  /** Per-container output channel that outlives one run: attach subscribes before start. */
  private readonly channels = new Map<string, EventEmitter>();
  private readonly live = new Map<string, Live>();
  private readonly waiters = new Map<string, Set<PendingWait>>();
  private readonly removals = new Map<string, Promise<void>>();
  /** Restarts the restart policy scheduled, and the last delay it waited (the backoff doubles it). */
  private readonly restarts = new Map<string, NodeJS.Timeout>();
  private readonly restartDelays = new Map<string, number>();
  /** Stdin of `OpenStdin` containers, from the first attach or start until the run ends. */
  private readonly stdins = new Map<string, StdinPipe>();
  private readonly pollMs: number;
  private closed = false;

  /** `docker exec` sessions of the running containers. */
  readonly execs: ExecSessions;
  /** `docker events`. */
  readonly events = new EventBus();
  /** Healthchecks of the running containers (health.ts). */
  readonly health: HealthMonitor;

  private readonly trash: Trash;

  constructor(private readonly o: LifecycleOptions) {
    this.trash = o.trash ?? new Trash();
    this.pollMs = o.pollIntervalMs ?? 100;
    this.execs = new ExecSessions({
      root: o.root, store: o.store, engine: o.engine, syscalls: o.syscalls, running: (id) => this.liveProcess(id),
      paused: (id) => this.isPaused(id),
      publish: (action, rec, extra) => this.publish(action, rec, extra),
      linkEnv: (rec) => o.networks?.linkEnvOf(rec) ?? [],
    });
    this.health = new HealthMonitor({
      root: o.root, execs: this.execs, publish: (action, rec) => this.publish(action, rec), paused: (id) => this.isPaused(id),
      imageConfig: async (rec) => {
        try {
          return (await this.o.images.inspectImage(rec.imageId || rec.image)).config as Record<string, unknown>;
        } catch {
          return undefined; // the image is gone: the container's own healthcheck still counts
        }
      },
    });
  }

  get store(): ContainerStore {
    return this.o.store;
  }

  /** The output channel of a container: 'record' (LogRecord) and 'end' (this run's output is complete). */
  channel(id: string): EventEmitter {
    let ch = this.channels.get(id);
    if (!ch) {
      ch = new EventEmitter();
      ch.setMaxListeners(0);
      this.channels.set(id, ch);
    }
    return ch;
  }

  /** Docker's `Mounts` of a container (inspect, ps), from its stored mounts. */
  mountPoints(rec: ContainerRecord): MountPoint[] {
    return this.o.engine.mountPoints(rec.mounts);
  }

  isRunning(id: string): boolean {
    return this.live.has(id);
  }

  /** A running container whose cgroup is frozen (`docker pause`); the kernel's state, so it holds across supervisor restarts. */
  isPaused(id: string): boolean {
    return this.live.has(id) && this.o.engine.isPaused?.(id) === true;
  }

  /** After a stop or kill signal: the v1 freezer holds even a SIGKILLed task until thawed. */
  private async thawAfterSignal(id: string): Promise<void> {
    if (!this.isPaused(id)) return;
    await this.o.engine.unpause?.(id).catch((err: unknown) => {
      console.error(`berth: failed to thaw container ${id} after signalling it: ${errorMessage(err)}`);
    });
  }

  /** The init of a running container: pid and start time. */
  liveProcess(id: string): { pid: number; startTime: number } | undefined {
    const l = this.live.get(id);
    return l ? { pid: l.pid, startTime: l.startTime } : undefined;
  }

  /** An exited container its restart policy is about to start again (Docker's "restarting"). */
  isRestarting(id: string): boolean {
    return this.restarts.has(id);
  }

  /**
   * Where an attached client's input goes: the stdin of a container created
   * with `OpenStdin`, made on first use so input sent before the start waits
   * in the pipe. `undefined` when the container takes no input, or is running
   * without a pipe (re-adopted from an earlier supervisor: its stdin ended
   * with that supervisor).
   */
  stdinFor(ref: string): StdinPipe | undefined {
    return this.stdinOf(this.o.store.resolve(ref));
  }

  private stdinOf(rec: ContainerRecord): StdinPipe | undefined {
    if (rec.config.OpenStdin !== true) return undefined;
    let pipe = this.stdins.get(rec.id);
    if (!pipe && !this.live.has(rec.id)) this.stdins.set(rec.id, (pipe = new StdinPipe(this.o.syscalls)));
    return pipe;
  }

  private dropStdin(id: string): void {
    this.stdins.get(id)?.destroy();
    this.stdins.delete(id);
  }

  /**
   * `docker create`: the body is checked once, resolved once into the
   * container's record (the engine creates and references its volumes), and
   * stored. Everything later reads that record.
   */
  async create(body: unknown, name?: string): Promise<{ Id: string; Warnings: string[] }> {
    const req = parseCreateBody(body);
    const finalName = name ? normalizeName(name) : generateName((n) => this.o.store.nameTaken(n));
    if (this.o.store.nameTaken(finalName)) throw this.o.store.nameConflict(finalName);
    parseLogConfig(req.hostConfig.LogConfig);
    validateHealthcheck(req.config as unknown as Record<string, unknown>);
    const policy = parseRestartPolicy(req.hostConfig.RestartPolicy);
    if (req.hostConfig.AutoRemove === true && policy.name !== 'no') {
      throw new InvalidParameterError("can't create 'AutoRemove' container with restart policy");
    }
    // networks: resolved and checked before anything is made or recorded.
    const networking = this.o.networks?.resolveCreate({
      Config: req.config as never, HostConfig: req.hostConfig as never, NetworkingConfig: req.networkingConfig as never,
    });
    const image = await this.o.images.inspectImage(req.config.Image);
    const id = newContainerId();
    const spec = this.o.engine.create(req, {
      id, image: { id: image.id, config: image.config as ImageFacts['config'] }, volumesFrom: (ref) => this.volumesFrom(ref),
      ...(networking ? { networksByCaller: true } : {}),
    });
    try {
      this.o.store.insert({
        id, name: finalName, image: spec.config.Image, imageId: spec.imageId, config: spec.config, hostConfig: spec.hostConfig,
        networkingConfig: spec.networkingConfig, mounts: spec.mounts, security: spec.security, state: 'created',
        pid: 0, startTime: 0, exitCode: 0, error: '', oomKilled: false, created: new Date().toISOString(),
        startedAt: '', finishedAt: '', autoRemove: spec.hostConfig.AutoRemove,
        anonymousVolumes: spec.mounts.filter((m) => m.type === 'volume' && m.anonymous).map((m) => m.source),
        restartCount: 0, manuallyStopped: false,
      });
    } catch (err) {
      // The name was taken meanwhile: give back what the engine made for it.
      await Promise.resolve(this.o.engine.cleanup(id, { removeAnonymousVolumes: true })).catch(() => undefined);
      throw err;
    }
    if (networking) {
      try {
        this.o.networks!.containerCreated(id, finalName, networking);
      } catch (err) {
        this.o.store.delete(id);
        await Promise.resolve(this.o.engine.cleanup(id, { removeAnonymousVolumes: true })).catch(() => undefined);
        throw err;
      }
    }
    this.publish('create', this.o.store.get(id));
    return { Id: id, Warnings: [] };
  }

  /** The stored mounts of the container `ref` names (`--volumes-from`); undefined when there is none. */
  private volumesFrom(ref: string): MountSpec[] | undefined {
    try {
      return this.o.store.resolve(ref).mounts;
    } catch (err) {
      if (err instanceof NoSuchContainerError) return undefined;
      throw err;
    }
  }

  /** A user's start: it also ends a pending policy restart and starts the restart count afresh. */
  async start(ref: string): Promise<void> {
    const rec = this.o.store.resolve(ref);
    if (rec.state === 'running' || this.live.has(rec.id)) throw new NotModifiedError(`container ${rec.id} is already running`);
    this.cancelRestart(rec.id);
    this.restartDelays.delete(rec.id);
    await this.launch(this.o.store.update(rec.id, { restartCount: 0, manuallyStopped: false }));
  }

  /** `docker rename`. */
  rename(ref: string, newName: string): void {
    const rec = this.o.store.resolve(ref);
    if (newName === '') throw new InvalidParameterError('Neither old nor new names may be empty');
    const name = normalizeName(newName);
    if (name === rec.name) throw new InvalidParameterError('Renaming a container with the same name as its current name');
    this.o.store.rename(rec.id, name);
    this.publish('rename', this.o.store.get(rec.id), { oldName: `/${rec.name}` });
  }

  /**
   * `docker container prune`: removes the containers that are not running
   * (nor about to restart) and that `keep` does not hold back; their named
   * and anonymous volumes stay, as with Docker.
   */
  async prune(keep: (rec: ContainerRecord) => boolean = () => false): Promise<string[]> {
    const removed: string[] = [];
    for (const rec of this.o.store.list()) {
      if (this.live.has(rec.id) || this.restarts.has(rec.id) || rec.state === 'running' || rec.state === 'removing' || keep(rec)) continue;
      try {
        await this.remove(rec.id);
        removed.push(rec.id);
      } catch (err) {
        console.error(`berth: failed to prune container ${rec.id}: ${errorMessage(err)}`);
      }
    }
    return removed;
  }

  /** `docker restart`: stop when running (StopSignal, then SIGKILL after the timeout), then start. */
  async restart(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const rec = this.o.store.resolve(ref);
    if (this.live.has(rec.id)) await this.stop(rec.id, timeoutSec, signal);
    await this.start(rec.id);
    this.publish('restart', this.o.store.get(rec.id));
  }

  private async launch(rec: ContainerRecord): Promise<void> {
    if (rec.state === 'removing' || rec.state === 'dead') {
      throw new ConflictError(`failed to start container ${rec.id}: it is being removed`);
    }
    const paths = containerPaths(this.o.root, rec.id);
    rmSync(paths.status, { force: true });
    // The last run is recorded as exited, so its output is in the log already.
    removeRawOutput(paths);
    const stdin = this.stdinOf(rec);
    const terminalSize = rec.config.Tty ? openTerminalSize(paths.winsize, parseConsoleSize(rec.hostConfig.ConsoleSize)) : undefined;
    let io: ReturnType<typeof openStdioForStart>;
    try {
      io = openStdioForStart(paths, stdin?.containerFd);
    } catch (err) {
      if (terminalSize !== undefined) closeSync(terminalSize);
      throw err;
    }
    const output = this.follow(paths, rec);
    this.wire(rec.id, output);
    let started;
    try {
      const namespaceDonors = this.namespaceDonors(rec);
      started = await this.o.engine.start({
        id: rec.id, spec: Store.specOf(rec), ...(namespaceDonors ? { namespaceDonors } : {}),
        stdio: terminalSize === undefined ? io.stdio : { ...io.stdio, terminalSize },
        statusPath: paths.status,
        // networks: netavark's hook, or the namespace of the container this one shares.
        ...(this.o.networks?.launchOptions(rec) ?? {}),
      });
    } catch (err) {
      io.close();
      if (terminalSize !== undefined) closeSync(terminalSize);
      this.dropStdin(rec.id);
      output.finish();
      this.o.store.update(rec.id, { error: errorMessage(err), exitCode: 128 });
      // Docker removes an --rm container whose start failed; `run` waits on `removed`.
      if (rec.autoRemove) await this.remove(rec.id, { force: true, removeVolumes: true }).catch(() => undefined);
      throw err;
    }
    // The container holds its own fds now.
    io.close();
    if (terminalSize !== undefined) closeSync(terminalSize);
    stdin?.releaseReadEnd();
    this.o.store.update(rec.id, {
      state: 'running', pid: started.pid, startTime: started.startTime,
      startedAt: new Date().toISOString(), finishedAt: '', exitCode: 0, error: '', oomKilled: false,
    });
    this.publish('start', rec);
    this.watch(rec.id, output, started.pid, started.startTime, started.exited);
    void this.health.start(this.o.store.get(rec.id));
  }

  /**
   * `--pid container:X` / `--ipc container:X`: the init of the running
   * container X, whose namespaces the new one joins (absent when X does not
   * run: the plan then refuses with Docker's message).
   */
  private namespaceDonors(rec: ContainerRecord): NamespaceDonors | undefined {
    const donor = (mode: string): number | undefined => {
      if (!mode.startsWith('container:')) return undefined;
      const other = this.o.store.resolve(mode.slice('container:'.length));
      return this.live.get(other.id)?.pid;
    };
    const pid = donor(rec.hostConfig.PidMode);
    const ipc = donor(rec.hostConfig.IpcMode);
    if (pid === undefined && ipc === undefined) return undefined;
    return { ...(pid !== undefined ? { pid } : {}), ...(ipc !== undefined ? { ipc } : {}) };
  }

  /** A container event, with Docker's attributes: image, name and the container's labels. */
  publish(action: string, rec: ContainerRecord, extra: Record<string, string> = {}): void {
    this.events.publish('container', action, rec.id, { ...(rec.config.Labels ?? {}), image: rec.image, name: rec.name, ...extra });
  }

  private follow(paths: ContainerPaths, rec: ContainerRecord): OutputFollower {
    return new OutputFollower(paths, { pollMs: this.pollMs, log: parseLogConfig(rec.hostConfig.LogConfig), syscalls: this.o.syscalls });
  }

  private wire(id: string, output: OutputFollower): void {
    const ch = this.channel(id);
    output.on('record', (r: LogRecord) => ch.emit('record', r));
    output.on('end', () => ch.emit('end'));
  }

  private watch(id: string, output: OutputFollower, pid: number, startTime: number, exited: Promise<ExitStatus>): void {
    const done = exited.then(
      (status) => this.onExit(id, output, status),
      (err: unknown) => this.onExit(id, output, { exitCode: 125, error: `failed to watch container: ${errorMessage(err)}`, oomKilled: false }),
    );
    this.live.set(id, { output, pid, startTime, done });
  }

  /**
   * Record the exit, only once all output is in the log. `exited` resolves
   * when the init is gone, and when PID 1 of a pid namespace exits the
   * kernel kills every other process in it: nothing writes to the raw files
   * any more, so converting them to their end gets everything.
   */
  private async onExit(id: string, output: OutputFollower, status: ExitStatus): Promise<void> {
    if (this.closed) return;
    this.health.stop(id);
    output.finish(status.error ? `berth: ${status.error}\n` : undefined);
    this.live.delete(id);
    // networks: a re-adopted container's endpoints (a launch's own hook has torn them down already).
    await this.o.networks?.containerExited(id, this.o.store.find(id)?.name ?? id.slice(0, 12)).catch((err: unknown) => {
      console.error(`berth: failed to tear down the network of container ${id}: ${errorMessage(err)}`);
    });
    this.dropStdin(id);
    const rec = this.o.store.update(id, {
      state: 'exited', exitCode: status.exitCode, error: status.error ?? '', oomKilled: status.oomKilled,
      finishedAt: new Date().toISOString(), pid: 0,
    });
    this.publish('die', rec, { exitCode: String(rec.exitCode) });
    // Only after the exit is recorded: until then a restarted supervisor may need them.
    removeRawOutput(containerPaths(this.o.root, id));
    this.fire(id, ['not-running', 'next-exit'], rec.exitCode);
    // A removal already under way (`rm -f`) waits for this exit to finish: it
    // does the auto-removal itself, and awaiting it here would deadlock.
    if (rec.autoRemove && !this.removals.has(id)) {
      try {
        await this.remove(id, { force: true, removeVolumes: true });
      } catch (err) {
        console.error(`berth: failed to auto-remove container ${id}: ${errorMessage(err)}`);
      }
      return;
    }
    // A manual stop and a removal end the container for good; anything else is the policy's call.
    if (!rec.manuallyStopped && !this.removals.has(id)) this.scheduleRestart(rec);
  }

  /** Starts the container again after the backoff when its policy says so (moby's restart manager). */
  private scheduleRestart(rec: ContainerRecord): void {
    const policy = parseRestartPolicy(rec.hostConfig.RestartPolicy);
    if (this.closed || !shouldRestart(policy, { exitCode: rec.exitCode, restartCount: rec.restartCount, manuallyStopped: rec.manuallyStopped })) {
      this.restartDelays.delete(rec.id);
      return;
    }
    const ranFor = Date.parse(rec.finishedAt) - Date.parse(rec.startedAt || rec.finishedAt);
    const delay = nextRestartDelay(this.restartDelays.get(rec.id) ?? 0, Number.isFinite(ranFor) ? ranFor : 0);
    this.restartDelays.set(rec.id, delay);
    const timer = setTimeout(() => {
      const current = this.o.store.find(rec.id);
      if (!current || current.state !== 'exited' || this.live.has(rec.id)) {
        this.restarts.delete(rec.id);
        return;
      }
      // Still "restarting" until the launch is done (a bridge network's setup takes a while): inspect
      // must not show the new count beside the old run's exited state.
      const relaunch = this.launch(this.o.store.update(rec.id, { restartCount: current.restartCount + 1 }));
      void relaunch.finally(() => { if (this.restarts.get(rec.id) === timer) this.restarts.delete(rec.id); }).catch(() => undefined);
      relaunch.catch((err: unknown) => {
        console.error(`berth: failed to restart container ${rec.id} (restart policy ${policy.name}): ${errorMessage(err)}`);
        // A start that fails counts as an exit: the policy decides again, the backoff grows.
        const failed = this.o.store.find(rec.id);
        if (failed && failed.state === 'exited' && !failed.manuallyStopped) this.scheduleRestart(failed);
      });
    }, delay);
    this.restarts.set(rec.id, timer);
  }

  private cancelRestart(id: string): boolean {
    const timer = this.restarts.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.restarts.delete(id);
    return true;
  }

  private fire(id: string, conditions: WaitCondition[], exitCode: number): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (conditions.includes(w.condition)) {
        set.delete(w);
        w.resolve({ StatusCode: exitCode, Error: null });
      }
    }
  }

  /** Register a waiter. Throws NoSuchContainer now (so the API can answer 404 before its 200 headers). */
  wait(ref: string, condition: WaitCondition = 'not-running'): Waiter {
    const rec = this.o.store.resolve(ref);
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) {
      throw new InvalidParameterError(`invalid condition: "${condition}"; use not-running, next-exit or removed`);
    }
    if (condition === 'not-running' && !this.live.has(rec.id) && rec.state !== 'running') {
      return { result: Promise.resolve({ StatusCode: rec.exitCode, Error: null }), cancel: () => undefined };
    }
    let set = this.waiters.get(rec.id);
    if (!set) this.waiters.set(rec.id, (set = new Set()));
    const s = set;
    let entry!: PendingWait;
    const result = new Promise<WaitResult>((resolve) => { entry = { condition, resolve }; });
    s.add(entry);
    return { result, cancel: () => { s.delete(entry); } };
  }

  /** SIGTERM (or the container's StopSignal), then SIGKILL after `timeoutSec`; returns once it has fully exited. */
  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const rec = this.o.store.resolve(ref);
    const l = this.live.get(rec.id);
    if (!l) {
      // Between a policy's restarts: the stop ends them.
      if (this.cancelRestart(rec.id)) {
        this.o.store.update(rec.id, { manuallyStopped: true });
        return;
      }
      throw new NotModifiedError(`container ${rec.id} is not running`);
    }
    // Recorded before the signal, so the exit it causes is not the policy's to restart.
    this.o.store.update(rec.id, { manuallyStopped: true });
    const t = timeoutSec ?? rec.config.StopTimeout ?? 10;
    const stopSignal = rec.config.StopSignal || 'SIGTERM';
    const first = parseSignal(signal ?? stopSignal);
    this.publish('kill', rec, { signal: String(first) });
    signalProcess(this.o.syscalls, l.pid, l.startTime, first);
    await this.thawAfterSignal(rec.id);
    if (t >= 0) {
      const inTime = await Promise.race([l.done.then(() => true), sleep(t * 1000).then(() => false)]);
      if (!inTime) {
        this.publish('kill', rec, { signal: '9' });
        signalProcess(this.o.syscalls, l.pid, l.startTime, 9);
      }
    }
    await l.done;
    this.publish('stop', rec);
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const rec = this.o.store.resolve(ref);
    const l = this.live.get(rec.id);
    if (!l) throw new ConflictError(`Cannot kill container: ${rec.id}: container ${rec.id} is not running`);
    const sig = parseSignal(signal, 'SIGKILL');
    this.publish('kill', rec, { signal: String(sig) });
    signalProcess(this.o.syscalls, l.pid, l.startTime, sig);
    await this.thawAfterSignal(rec.id);
    // Docker waits for a SIGKILLed container to be gone before answering.
    if (sig === 9) await Promise.race([l.done, sleep(10_000)]);
  }

  /** `docker resize`: the terminal of a running `Tty` container takes the new size (the init re-reads it on SIGWINCH). */
  resize(ref: string, rows: number, cols: number): void {
    const rec = this.o.store.resolve(ref);
    const l = this.live.get(rec.id);
    if (!l) throw new ConflictError(`Container ${rec.id} is not running`);
    if (rec.config.Tty !== true) return; // no terminal: nothing to size, as with Docker
    resizeTerminal(this.o.syscalls, containerPaths(this.o.root, rec.id).winsize, l, rows, cols);
  }

  /**
   * Remove a container: with `force` a running one is killed and reaped
   * first; its volume references are released (and its anonymous volumes
   * removed with `removeVolumes`) before this returns.
   */
  remove(ref: string, opts: { force?: boolean; removeVolumes?: boolean } = {}): Promise<void> {
    const rec = this.o.store.resolve(ref);
    const pending = this.removals.get(rec.id);
    if (pending) return pending;
    const l = this.live.get(rec.id);
    if ((l || this.restarts.has(rec.id)) && !opts.force) {
      return Promise.reject(new ConflictError(
        `cannot remove container "/${rec.name}": container is ${l ? 'running' : 'restarting'}: stop the container before removing or force remove`,
      ));
    }
    this.cancelRestart(rec.id);
    this.restartDelays.delete(rec.id);
    const p = this.doRemove(rec, l, opts.removeVolumes === true).finally(() => this.removals.delete(rec.id));
    this.removals.set(rec.id, p);
    return p;
  }

  private async doRemove(rec: ContainerRecord, l: Live | undefined, removeVolumes: boolean): Promise<void> {
    if (l) {
      signalProcess(this.o.syscalls, l.pid, l.startTime, 9);
      await this.thawAfterSignal(rec.id);
      await l.done;
    }
    // `rm -v` is recorded with the state (as auto-remove, which implies it),
    // so a removal a crash interrupts is finished the same way at recovery.
    const current = this.o.store.update(rec.id, { state: 'removing', ...(removeVolumes ? { autoRemove: true } : {}) });
    try {
      // The layer directories' deletion is not waited for: nothing of the
      // container can be seen once its records are gone, and a `run --rm`'s
      // wait would otherwise pay 3-21 ms of rm -rf.
      await this.o.engine.cleanup(rec.id, {
        removeAnonymousVolumes: current.autoRemove,
        anonymousVolumes: current.anonymousVolumes,
        waitForDeletion: false,
      });
    } catch (err) {
      this.o.store.update(rec.id, { state: 'dead', error: `failed to remove container: ${errorMessage(err)}` });
      throw err;
    }
    // networks: endpoints, ports and name files go with the container.
    await this.o.networks?.containerRemoved(rec.id, rec.name).catch((err: unknown) => {
      console.error(`berth: failed to release the networks of container ${rec.id}: ${errorMessage(err)}`);
    });
    // The supervisor's own directory: log, raw output, offsets, status (deleted off the request).
    this.trash.discard(containerPaths(this.o.root, rec.id).dir);
    this.o.store.delete(rec.id);
    this.dropStdin(rec.id);
    this.execs.dropContainer(rec.id);
    this.publish('destroy', current);
    // Attach clients still waiting for a start that will never come.
    this.channels.get(rec.id)?.emit('end');
    this.channels.delete(rec.id);
    this.fire(rec.id, ['removed', 'not-running', 'next-exit'], current.exitCode);
    this.waiters.delete(rec.id);
  }

  /**
   * After a restart: containers recorded as running are re-adopted when the
   * same process (pid + start time) is still alive, or get their real exit
   * status from the status file the init left; either way their output is
   * followed on from the saved offsets, so what they wrote while no
   * supervisor ran reaches the log. Half-done removals are finished.
   */
  async recover(): Promise<{ adopted: string[]; exited: string[] }> {
    const adopted: string[] = [];
    const exited: string[] = [];
    for (const rec of this.o.store.listByState('removing')) {
      await this.remove(rec.id, { force: true }).catch((err: unknown) => {
        console.error(`berth: failed to finish removing container ${rec.id}: ${errorMessage(err)}`);
      });
    }
    // A supervisor killed in the middle of a start leaves the container
    // recorded as created, maybe with an init running that nobody
    // acknowledged: end it. Its volumes are the container's since create
    // and stay; a later start begins anew.
    for (const rec of this.o.store.listByState('created')) {
      const stray = this.o.engine.strayInits?.(containerPaths(this.o.root, rec.id).status) ?? [];
      for (const pid of stray) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      if (stray.length > 0) await sleep(50);
    }
    // Raw output a supervisor left behind when it died right after recording an exit.
    const exitedBefore = this.o.store.listByState('exited');
    for (const rec of exitedBefore) removeRawOutput(containerPaths(this.o.root, rec.id));
    for (const rec of this.o.store.listByState('running')) {
      const paths = containerPaths(this.o.root, rec.id);
      const output = this.follow(paths, rec);
      this.wire(rec.id, output);
      const alive = processStartTime(rec.pid) === rec.startTime;
      (alive ? adopted : exited).push(rec.id);
      let stopPolling = (): void => undefined;
      const exitedP = new Promise<ExitStatus>((resolve) => {
        // Once the process is gone its status file should be there; a few polls of grace cover
        // a writer that is still flushing it.
        let graceLeft = 5;
        const check = (): boolean => {
          if (processStartTime(rec.pid) === rec.startTime) return false;
          const status = this.o.engine.readStatus(paths.status);
          if (!status && graceLeft-- > 0) return false;
          resolve(status ?? {
            exitCode: 137, oomKilled: false,
            error: 'the exit status was lost: the container exited while the supervisor was down and left no status file',
          });
          return true;
        };
        if (check()) return;
        const timer = setInterval(() => { if (check()) clearInterval(timer); }, this.pollMs);
        stopPolling = () => clearInterval(timer);
      });
      // No launch watches it any more: its cgroup goes when its exit is seen, as a launch's would.
      const released = exitedP.then((status) => {
        this.o.engine.releaseCgroup?.(rec.id);
        return status;
      });
      this.watch(rec.id, output, rec.pid, rec.startTime, released);
      this.live.get(rec.id)!.stopPolling = stopPolling;
      if (alive) void this.health.start(rec, { resume: true });
    }
    // As dockerd's restore: what exited while no supervisor ran is recorded, its network torn
    // down and an AutoRemove container removed before the API answers.
    await Promise.all(exited.map((id) => this.live.get(id)?.done));
    // networks: running containers keep their addresses (their namespaces held again); the rest are torn down.
    await this.o.networks?.reconcile(new Map([...this.live.entries()].map(([id, l]) => [id, l.pid]))).catch((err: unknown) => {
      console.error(`berth: failed to reconcile networks: ${errorMessage(err)}`);
    });
    // What restart policies bring back when a supervisor starts (moby's restore): `always` even
    // after a manual stop, `unless-stopped` unless stopped, `on-failure` within its count.
    for (const rec of exitedBefore) {
      const policy = parseRestartPolicy(rec.hostConfig.RestartPolicy);
      if (!shouldRestart(policy, { exitCode: rec.exitCode, restartCount: rec.restartCount, manuallyStopped: rec.manuallyStopped })) continue;
      if (this.live.has(rec.id) || this.restarts.has(rec.id)) continue;
      await this.launch(this.o.store.update(rec.id, { restartCount: rec.restartCount + 1, manuallyStopped: false })).catch((err: unknown) => {
        console.error(`berth: failed to restart container ${rec.id} (restart policy ${policy.name}): ${errorMessage(err)}`);
      });
    }
    return { adopted, exited };
  }

  /** Wait for every watched container to be recorded as exited (tests, orderly shutdown of short jobs). */
  async settle(): Promise<void> {
    await Promise.all([...this.live.values()].map((l) => l.done));
  }

  /** Stop watching: containers keep running; a later supervisor re-adopts them. */
  close(): void {
    this.closed = true;
    this.health.close();
    // Pending restarts are the next supervisor's: it starts what the policies say at recover.
    for (const id of [...this.restarts.keys()]) this.cancelRestart(id);
    for (const l of this.live.values()) {
      l.stopPolling?.();
      l.output.detach();
    }
    this.live.clear();
    // Their containers read EOF, as they would if this process died.
    for (const id of [...this.stdins.keys()]) this.dropStdin(id);
    for (const set of this.waiters.values()) set.clear();
    this.waiters.clear();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
