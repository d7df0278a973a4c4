/** A berth supervisor in a child process (`berth daemon`), for the CLI and memory rows. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { BenchError, LaunchFailedError } from './errors.js';
import type { Spawner } from './spawner.js';

export const CLI = fileURLToPath(new URL('../../cli/bin/berth.js', import.meta.url));

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

export class Daemon {
  private constructor(
    readonly root: string,
    readonly socketPath: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
    /** The shell the timed CLI runs start from. */
    private readonly spawner: Spawner,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /** Imports the archive into a fresh root, then starts `berth daemon` on it and waits for /_ping. */
  static async start(dir: string, archive: string, workers: number, spawner: Spawner): Promise<Daemon> {
    const root = join(dir, `daemon-root-${workers}w`);
    mkdirSync(root, { recursive: true });
    const layers = LayerStore.open(root, { syscalls: new LinuxSyscalls() });
    try {
      if (!layers.findImage('busybox')) await layers.importImage(archive);
    } finally {
      layers.close();
    }
    const socketPath = join(dir, `berth-${workers}w.sock`);
    const logFile = join(dir, `daemon-${workers}w.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [CLI, '--root', root, '--host', `unix://${socketPath}`, 'daemon', '--workers', String(workers)],
      { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const daemon = new Daemon(root, socketPath, child, logFile, spawner);
    let exited: string | undefined;
    child.once('exit', (code, signal) => { exited = `exit ${code ?? signal}`; });
    for (let i = 0; i < 150; i++) {
      if (exited) break;
      if (await ping(socketPath)) return daemon;
      await sleep(100);
    }
    await daemon.stop();
    throw new BenchError('DaemonStart', `failed to start berth daemon (${exited ?? 'no answer in 15 s'}): ${daemon.lastLog()}`);
  }

  lastLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-3).join(' / ') || 'no output';
    } catch {
      return 'no log';
    }
  }

  /**
   * The argv of one `berth run --rm FLAGS busybox /bin/true`. The launch rows use `--network none`
   * (the CLI's default is Docker's bridge network, measured in a row of its own).
   */
  runArgv(flags: readonly string[] = ['--network', 'none']): string[] {
    return [process.execPath, CLI, '--root', this.root, '--host', `unix://${this.socketPath}`, 'run', '--rm', ...flags, 'busybox', '/bin/true'];
  }

  /** One CLI run, whole-process wall time. */
  timeRun(flags: readonly string[] = ['--network', 'none']): Promise<number> {
    return this.spawner.run(this.runArgv(flags), 'berth run --rm');
  }

  /** One CLI run without blocking the event loop (for the load in the memory case). */
  runAsync(): Promise<void> {
    const [file, ...args] = this.runArgv();
    return new Promise((resolve, reject) => {
      const c = spawn(file!, args, { stdio: 'ignore' });
      c.once('error', reject);
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new LaunchFailedError('berth run --rm', `exit ${code}`))));
    });
  }

  /** `berth run -d --network none busybox sleep 600`: a container left running (the memory case); its id. */
  runDetached(): string {
    const r = spawnSync(process.execPath, [CLI, '--root', this.root, '--host', `unix://${this.socketPath}`, 'run', '-d', '--network', 'none', 'busybox', 'sleep', '600'], {
      stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
    });
    if (r.status !== 0) throw new LaunchFailedError('berth run -d', `exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  /** `berth rm -f IDS`. */
  removeForce(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const r = spawnSync(process.execPath, [CLI, '--root', this.root, '--host', `unix://${this.socketPath}`, 'rm', '-f', ...ids], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new LaunchFailedError('berth rm -f', `exit ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  }

  /** The docker CLI's `run --rm --network none busybox /bin/true` against this supervisor's socket. */
  dockerRunArgv(): string[] {
    return ['docker', '--host', `unix://${this.socketPath}`, 'run', '--rm', '--network', 'none', 'busybox', '/bin/true'];
  }

  /** One docker CLI run on berth's socket, whole-process wall time (the Go client users have, on the same supervisor). */
  timeDockerRun(): Promise<number> {
    return this.spawner.run(this.dockerRunArgv(), 'docker run --rm (docker CLI on berth)');
  }

  /** Resident set size of the supervisor process, MB. */
  rssMB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  }

  /** SIGTERM by pid, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timedOut = await Promise.race([gone.then(() => false), sleep(10_000).then(() => true)]);
    if (timedOut) {
      this.child.kill('SIGKILL');
      await gone;
    }
  }
}

/** `node -e 0`: the start-up and exit every Node CLI pays, the floor of the `berth run --rm` row. */
export function nodeFloorArgv(): string[] {
  return [process.execPath, '-e', '0'];
}
