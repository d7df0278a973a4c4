/**
 * The supervisor as a real child process (`berth daemon`), so tests can
 * SIGKILL it like a crash would, restart it on the same root, and talk to it
 * through its unix socket with dockerode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BERTH_BIN = join(REPO, 'packages/cli/bin/berth.js');

export interface DaemonOptions {
  root: string;
  socketPath: string;
  /** Where the daemon's stderr goes (appended across restarts). */
  logPath: string;
  workers?: number;
}

export class Daemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly docker: Docker;

  constructor(readonly opts: DaemonOptions) {
    this.docker = new Docker({ socketPath: opts.socketPath });
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('the daemon is not running');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start `berth daemon` and wait until it answers /_ping. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error('the daemon is already running');
    const log = openSync(this.opts.logPath, 'a');
    const args = [BERTH_BIN, '--root', this.opts.root, '--host', `unix://${this.opts.socketPath}`, 'daemon'];
    if (this.opts.workers !== undefined) args.push('--workers', String(this.opts.workers));
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`the daemon exited during start-up (code ${child.exitCode}): ${this.logTail()}`);
      if (existsSync(this.opts.socketPath)) {
        try {
          await this.docker.ping();
          return;
        } catch { /* not listening yet */ }
      }
      await sleep(25);
    }
    throw new Error(`the daemon did not answer within ${timeoutMs} ms: ${this.logTail()}`);
  }

  /** A crash: SIGKILL, then wait for the process to be gone. */
  async crash(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** An orderly stop (SIGTERM); containers keep running. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) await this.crash();
  }

  async alive(): Promise<boolean> {
    if (!this.running) return false;
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  logTail(chars = 2000): string {
    try {
      return readFileSync(this.opts.logPath, 'utf8').slice(-chars);
    } catch {
      return '(no log)';
    }
  }
}
