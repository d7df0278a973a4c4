/**
 * Healthchecks (`HEALTHCHECK`, `--health-*`): moby's health monitor. Each
 * running container with a healthcheck gets a probe, run as an exec, every
 * interval (the start interval during the start period); its results make
 * `State.Health` ({Status, FailingStreak, Log}), `health_status` events and
 * the `(healthy)` of `ps`. The state is stored with the container
 * (`<root>/supervisor/<id>/health.json`, temp + rename), so a restarted
 * supervisor resumes it for the containers it re-adopts.
 *
 * Not yet: skipping probes while paused (berth has no pause yet).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './container-store.js';
import { errorMessage, InvalidParameterError } from './errors.js';
import type { ExecSessions } from './exec.js';

const SECOND = 1000;
/** Docker's defaults. */
export const HEALTH_DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, retries: 3, startPeriod: 0, startInterval: 5 * SECOND };
/** moby keeps the last 5 results and the first 4096 bytes of each output. */
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }

/** Docker's `State.Health`. */
export interface HealthState { Status: HealthStatus; FailingStreak: number; Log: HealthResult[] }

/** A healthcheck with every default applied; durations in milliseconds. */
export interface HealthConfig {
  command: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
  startInterval: number;
}

interface DockerHealthcheck {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

function asHealthcheck(v: unknown, where: string): DockerHealthcheck | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`${where}.Healthcheck must be an object`);
  const h = v as DockerHealthcheck;
  if (h.Test !== undefined && h.Test !== null && (!Array.isArray(h.Test) || !h.Test.every((t) => typeof t === 'string'))) {
    throw new InvalidParameterError(`${where}.Healthcheck.Test must be a list of strings`);
  }
  return h;
}

/** Nanoseconds (the API's unit) to ms; 0 or absent takes the default, as moby's timeoutWithDefault. */
function duration(ns: number | undefined, fallback: number, name: string): number {
  if (ns === undefined || ns === 0) return fallback;
  if (!Number.isFinite(ns) || ns < 0) throw new InvalidParameterError(`Healthcheck.${name} must be a positive duration in nanoseconds`);
  return ns / 1e6;
}

/**
 * The effective healthcheck: the container's over the image's (an empty
 * Test inherits the image's test, zero durations inherit too, as moby's
 * merge does); `["NONE"]` (`--no-healthcheck`) or none at all is undefined.
 */
export function resolveHealthcheck(containerConfig: Record<string, unknown>, imageConfig: Record<string, unknown> | undefined): HealthConfig | undefined {
  const mine = asHealthcheck(containerConfig['Healthcheck'], 'Config');
  const image = asHealthcheck(imageConfig?.['Healthcheck'], 'image Config');
  const test = mine?.Test && mine.Test.length > 0 ? mine.Test : (image?.Test ?? []);
  const pick = (k: 'Interval' | 'Timeout' | 'Retries' | 'StartPeriod' | 'StartInterval'): number | undefined => mine?.[k] || image?.[k];
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  let command: string[];
  if (test[0] === 'CMD') command = test.slice(1);
  else if (test[0] === 'CMD-SHELL') command = ['/bin/sh', '-c', test.slice(1).join(' ')];
  else throw new InvalidParameterError(`unknown healthcheck type ${JSON.stringify(test[0])}: use CMD, CMD-SHELL or NONE`);
  if (command.length === 0) throw new InvalidParameterError('Healthcheck.Test names no command');
  const retries = pick('Retries');
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new InvalidParameterError('Healthcheck.Retries must be a whole number');
  return {
    command,
    interval: duration(pick('Interval'), HEALTH_DEFAULTS.interval, 'Interval'),
    timeout: duration(pick('Timeout'), HEALTH_DEFAULTS.timeout, 'Timeout'),
    retries: retries || HEALTH_DEFAULTS.retries,
    startPeriod: duration(pick('StartPeriod'), HEALTH_DEFAULTS.startPeriod, 'StartPeriod'),
    startInterval: duration(pick('StartInterval'), HEALTH_DEFAULTS.startInterval, 'StartInterval'),
  };
}

/** moby's containertypes.MinimumDuration, in nanoseconds. */
const MINIMUM_DURATION_NS = 1e6;

/**
 * moby's create-time checks of `Config.Healthcheck` (verifyContainerSettings),
 * with its messages; for create to call (the monitor would otherwise only
 * log a bad healthcheck when the container starts).
 */
export function validateHealthcheck(config: Record<string, unknown>): void {
  const h = asHealthcheck(config['Healthcheck'], 'Config');
  if (!h) return;
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = h[key];
    if (v === undefined || v === 0) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidParameterError(`${key} in Healthcheck must be a duration in nanoseconds`);
    if (v < MINIMUM_DURATION_NS) throw new InvalidParameterError(`${key} in Healthcheck cannot be less than 1ms`);
  }
  if (h.Retries !== undefined && h.Retries < 0) throw new InvalidParameterError('Retries in Healthcheck cannot be negative');
  resolveHealthcheck(config, undefined);
}

/** Go's time.Duration String() for whole milliseconds: 30s, 1m0s, 500ms. */
export function goDuration(ms: number): string {
  if (ms < SECOND) return `${ms}ms`;
  const totalSeconds = ms / SECOND;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

function healthFile(root: string, id: string): string {
  return join(root, 'supervisor', id, 'health.json');
}

/** The stored `State.Health` of a container, for inspect (docker-shapes) and `ps`; undefined without a healthcheck. */
export function readHealth(root: string, id: string): HealthState | undefined {
  try {
    return JSON.parse(readFileSync(healthFile(root, id), 'utf8')) as HealthState;
  } catch {
    return undefined;
  }
}

/** What `ps` appends to `Up 5 minutes`: ` (healthy)`, ` (unhealthy)`, ` (health: starting)`. */
export function healthSuffix(state: HealthState | undefined): string {
  if (!state) return '';
  return state.Status === 'starting' ? ' (health: starting)' : ` (${state.Status})`;
}

export interface HealthMonitorOptions {
  root: string;
  execs: ExecSessions;
  /** `health_status: healthy|unhealthy` events. */
  publish(action: string, rec: ContainerRecord): void;
  /** The image config a container was made from (for an image HEALTHCHECK). */
  imageConfig(rec: ContainerRecord): Promise<Record<string, unknown> | undefined>;
  /** A paused container is not probed (its probe would hang in the frozen cgroup); the schedule goes on. */
  paused?(containerId: string): boolean;
}

interface Probe {
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
  startedAt: number;
}

/** Runs the probes of the running containers; `start` on start or re-adoption, `stop` on exit. */
export class HealthMonitor {
  private readonly probes = new Map<string, Probe>();

  constructor(private readonly o: HealthMonitorOptions) {}

  /** Starts probing `rec` (a fresh `starting` state, or the stored one with `resume`). */
  async start(rec: ContainerRecord, opts: { resume?: boolean } = {}): Promise<void> {
    this.stop(rec.id);
    let config: HealthConfig | undefined;
    try {
      config = resolveHealthcheck(rec.config as unknown as Record<string, unknown>, await this.o.imageConfig(rec));
    } catch (error) {
      console.error(`berth: healthcheck of ${rec.id.slice(0, 12)} not run: ${errorMessage(error)}`);
      return;
    }
    if (!config) {
      rmSync(healthFile(this.o.root, rec.id), { force: true });
      return;
    }
    const stored = opts.resume ? readHealth(this.o.root, rec.id) : undefined;
    if (!stored) this.save(rec.id, { Status: 'starting', FailingStreak: 0, Log: [] });
    const startedAt = Date.parse(rec.startedAt) || Date.now();
    const probe: Probe = { timer: undefined, stopped: false, startedAt };
    this.probes.set(rec.id, probe);
    this.schedule(rec, config, probe);
  }

  stop(id: string): void {
    const p = this.probes.get(id);
    if (!p) return;
    p.stopped = true;
    if (p.timer) clearTimeout(p.timer);
    this.probes.delete(id);
  }

  /** The container is gone: its state goes with it. */
  forget(id: string): void {
    this.stop(id);
    rmSync(healthFile(this.o.root, id), { force: true });
  }

  close(): void {
    for (const id of [...this.probes.keys()]) this.stop(id);
  }

  private inStartPeriod(config: HealthConfig, probe: Probe): boolean {
    return Date.now() - probe.startedAt < config.startPeriod;
  }

  private schedule(rec: ContainerRecord, config: HealthConfig, probe: Probe): void {
    if (probe.stopped) return;
    const state = readHealth(this.o.root, rec.id);
    const wait = state?.Status === 'starting' && this.inStartPeriod(config, probe) ? config.startInterval : config.interval;
    probe.timer = setTimeout(() => {
      void this.runProbe(rec, config, probe).catch((error: unknown) => {
        console.error(`berth: healthcheck of ${rec.id.slice(0, 12)} failed to run: ${errorMessage(error)}`);
      }).finally(() => this.schedule(rec, config, probe));
    }, wait);
    probe.timer.unref();
  }

  private async runProbe(rec: ContainerRecord, config: HealthConfig, probe: Probe): Promise<void> {
    if (this.o.paused?.(rec.id)) return;
    const start = new Date();
    let output = Buffer.alloc(0);
    const keep = (chunk: Buffer): void => {
      if (output.length < MAX_OUTPUT) output = Buffer.concat([output, chunk]).subarray(0, MAX_OUTPUT);
    };
    const { Id } = this.o.execs.create(rec.id, { Cmd: config.command, AttachStdout: true, AttachStderr: true });
    const session = await this.o.execs.start(Id, { write: (_stream, chunk) => keep(chunk), end: () => undefined });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const pid = Number(this.o.execs.inspect(Id)['Pid']);
      if (pid > 0) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }, config.timeout);
    try {
      await session.done;
    } finally {
      clearTimeout(timer);
    }
    if (probe.stopped) return;
    const exitCode = timedOut ? -1 : Number(this.o.execs.inspect(Id)['ExitCode'] ?? -1);
    const result: HealthResult = {
      Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode,
      Output: timedOut ? `Health check exceeded timeout (${goDuration(config.timeout)})` : output.toString('utf8'),
    };
    const before = readHealth(this.o.root, rec.id) ?? { Status: 'starting' as const, FailingStreak: 0, Log: [] };
    const next: HealthState = { ...before, Log: [...before.Log, result].slice(-MAX_LOG_ENTRIES) };
    if (exitCode === 0) {
      next.FailingStreak = 0;
      next.Status = 'healthy';
    } else if (!(before.Status === 'starting' && this.inStartPeriod(config, probe))) {
      // Failures during the start period do not count, as in moby.
      next.FailingStreak = before.FailingStreak + 1;
      if (next.FailingStreak >= config.retries) next.Status = 'unhealthy';
    }
    this.save(rec.id, next);
    if (next.Status !== before.Status) this.o.publish(`health_status: ${next.Status}`, rec);
  }

  private save(id: string, state: HealthState): void {
    const file = healthFile(this.o.root, id);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    renameSync(tmp, file);
  }
}
