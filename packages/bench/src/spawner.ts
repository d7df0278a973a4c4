/**
 * Every program the bench times (the peers, berth's and the docker CLI,
 * `node -e 0`, the fork+exec floor) is started by a long-lived bash, never
 * by this process.
 *
 * Node's `spawnSync` forks the calling process (libuv forks; it does not
 * vfork). This process hosts berth's library runtime (~100 MB, five
 * isolates), so each fork copied its page tables and left every page it
 * writes afterwards to a copy-on-write fault, and page-table work is slow
 * on this VM. A library launch right after one `spawnSync` paid for it:
 * p50 17.1 ms after `spawnSync('sleep', ['0.12'])`, 10.2–11.5 ms after the
 * same wait without a fork (`Atomics.wait`, a busy loop or a timer; 40 launches
 * each, every one served by a parked sandbox). And each peer's own time
 * included forking this big process: `spawnSync('/bin/true')` took 9.5–11 ms
 * against ~3.5 ms from bash.
 *
 * The shell is forked once, at start (the import case does the same for tar
 * and sync, for the same reason). A timed run is measured inside the shell
 * with `$EPOCHREALTIME` around the fork, exec and wait of the command, as a
 * small launcher (a shell, conmon, a shim) runs these tools.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchError, LaunchFailedError } from './errors.js';

/** A word for the shell, single-quoted. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

const DONE = /^berth-spawner (\S+) (\S+) (\d+)$/m;
const STARTED = /^berth-spawner-pid (\d+)$/m;

export class Spawner {
  private out = '';
  private wake: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** Where a run without a `cwd` runs: this process's directory when the shell started (a `cd` would otherwise stay). */
  private readonly home = process.cwd();

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly dir: string) {
    child.stdout.setEncoding('utf8').on('data', (d: string) => { this.out += d; this.wake?.(); });
    child.stderr.resume();
    child.on('exit', () => this.wake?.());
  }

  /**
   * Forks the shell now: it inherits this thread's namespaces at this
   * moment (the crun peer starts its own inside a private mount namespace).
   */
  static start(): Spawner {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bench-spawner-'));
    return new Spawner(spawn('bash', ['--noprofile', '--norc'], { stdio: ['pipe', 'pipe', 'pipe'] }), dir);
  }

  /**
   * Runs `argv` (stdin and stdout /dev/null) in `cwd` (default: where this
   * process was when the shell started) and resolves with its wall time
   * in ms as the shell saw it; rejects, naming `what` and with the end of its
   * stderr, if it did not exit 0. Runs one at a time, in call order.
   */
  run(argv: readonly string[], what: string, options: { cwd?: string } = {}): Promise<number> {
    return this.serial(() => this.runNow(argv, what, options));
  }

  /** Starts `argv` in the background (a child of the shell); resolves with its pid. */
  startBackground(argv: readonly string[], what: string): Promise<number> {
    return this.serial(async () => {
      this.out = '';
      this.child.stdin.write(`${argv.map(shellQuote).join(' ')} </dev/null >/dev/null 2>&1 & echo "berth-spawner-pid $!"\n`);
      return Number((await this.answer(STARTED, what))[1]);
    });
  }

  /** SIGKILLs a process `startBackground` started and resolves once the shell has reaped it. */
  killBackground(pid: number, what: string): Promise<void> {
    return this.serial(async () => {
      this.out = '';
      this.child.stdin.write(`kill -KILL ${pid}; wait ${pid}; echo "berth-spawner 0 0 0"\n`);
      await this.answer(DONE, what);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for the shell's line matching `pattern`. */
  private async answer(pattern: RegExp, what: string): Promise<RegExpExecArray> {
    let m: RegExpExecArray | null;
    while ((m = pattern.exec(this.out)) === null) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new BenchError('Spawner', `failed to run ${what}: the bench's shell exited`);
      await new Promise<void>((r) => { this.wake = r; });
    }
    return m;
  }

  private async runNow(argv: readonly string[], what: string, options: { cwd?: string }): Promise<number> {
    const errFile = join(this.dir, 'stderr');
    const cd = `cd ${shellQuote(options.cwd ?? this.home)} && `;
    this.out = '';
    this.child.stdin.write(
      `${cd}{ s=$EPOCHREALTIME; ${argv.map(shellQuote).join(' ')} </dev/null >/dev/null 2>${shellQuote(errFile)}; st=$?; e=$EPOCHREALTIME; ` +
      `echo "berth-spawner $s $e $st"; } || echo "berth-spawner 0 0 255"\n`,
    );
    const m = await this.answer(DONE, what);
    if (m[3] !== '0') {
      let detail = '';
      try { detail = readFileSync(errFile, 'utf8').trim().split('\n').slice(-2).join(' / '); } catch { /* no stderr file: the cd failed */ }
      throw new LaunchFailedError(what, `exit ${m[3]}${detail ? `: ${detail}` : ''}`);
    }
    // $EPOCHREALTIME uses the locale's decimal point.
    const seconds = (s: string): number => Number(s.replace(',', '.'));
    return (seconds(m[2]!) - seconds(m[1]!)) * 1000;
  }

  close(): void {
    this.child.stdin.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
