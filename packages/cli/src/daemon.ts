/**
 * Reaching the daemon: when a command's first request finds nothing listening
 * on the socket, berth starts `berth daemon` in the background for that root
 * and socket and waits for it, so `berth run` works on a fresh machine. A
 * daemon that answers costs nothing: no `/_ping` is sent first.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './client.js';
import { DaemonStartError, UsageError } from './errors.js';

export const DEFAULT_ROOT = '/var/lib/berth';
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** `unix:///run/berth/berth.sock` → `/run/berth/berth.sock`; berth speaks only unix sockets. */
export function socketPathOf(host: string): string {
  if (host.startsWith('unix://')) {
    const p = host.slice('unix://'.length);
    if (p.startsWith('/')) return p;
  } else if (host.startsWith('/')) {
    return host;
  }
  throw new UsageError(`invalid --host '${host}': use unix:///absolute/path.sock (berth listens only on unix sockets)`);
}

export interface DaemonStartOptions {
  root: string;
  host: string;
  /** How long to wait for `/_ping` after spawning. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** argv that starts the daemon; BERTH_DAEMON_COMMAND (a JSON array) replaces the program, for tests. */
export function daemonArgv(options: DaemonStartOptions): string[] {
  const env = options.env ?? process.env;
  const override = env['BERTH_DAEMON_COMMAND'];
  let program: string[];
  if (override !== undefined && override !== '') {
    const parsed: unknown = JSON.parse(override);
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string')) {
      throw new UsageError('BERTH_DAEMON_COMMAND must be a JSON array of strings, for example ["node","/path/berth.js"]');
    }
    program = parsed as string[];
  } else {
    const launcher = fileURLToPath(new URL('../bin/berth.js', import.meta.url));
    program = [process.execPath, launcher];
  }
  return [...program, '--root', options.root, '--host', options.host, 'daemon'];
}

function lastLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return (lines[lines.length - 1] ?? '').replace(/^berth: /, '') || 'no output';
  } catch {
    return 'no log';
  }
}

/** Pings; when nothing answers, starts a background daemon and waits for it. */
export async function ensureDaemon(client: ApiClient, options: DaemonStartOptions): Promise<void> {
  if (await client.ping()) return;
  await startDaemon(client, options);
}

/** Starts a background daemon (nothing answered on the socket) and waits until it answers `/_ping`. */
export async function startDaemon(client: ApiClient, options: DaemonStartOptions): Promise<void> {
  const logFile = path.join(options.root, 'daemon.log');
  let fd: number;
  try {
    mkdirSync(options.root, { recursive: true, mode: 0o711 });
    fd = openSync(logFile, 'a', 0o600);
  } catch (error) {
    throw new DaemonStartError(
      `no berth daemon answers at unix://${client.socketPath} and one cannot be started for root ${options.root}: ${(error as Error).message}; run as root, or pass --root DIR and --host unix://PATH you can write`,
      { cause: error },
    );
  }
  const [program = process.execPath, ...args] = daemonArgv(options);
  let exited: string | undefined;
  try {
    const child = spawn(program, args, { detached: true, stdio: ['ignore', fd, fd], env: options.env ?? process.env });
    // Still unref'd: berth's own exit must not wait for the daemon; the listeners only end the wait early.
    child.on('error', (error) => (exited = error.message));
    child.on('exit', (code, signal) => (exited = signal === null ? `exit status ${code ?? 0}` : `signal ${signal}`));
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    await sleep(100);
    if (await client.ping()) return;
    if (exited !== undefined) {
      throw new DaemonStartError(
        `no berth daemon answers at unix://${client.socketPath} and the one started in the background ended (${exited}): ${lastLine(logFile)}; read ${logFile}, or run \`berth --root ${options.root} --host unix://${client.socketPath} daemon\` in the foreground to see why`,
      );
    }
  }
  throw new DaemonStartError(
    `no berth daemon answered at unix://${client.socketPath}; one was started in the background but did not answer within ${Math.round((options.timeoutMs ?? 10_000) / 1000)}s: read ${logFile}, or run \`berth --root ${options.root} --host unix://${client.socketPath} daemon\` in the foreground to see why`,
  );
}
