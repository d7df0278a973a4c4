import { randomBytes } from 'node:crypto';
import { closeSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { O_CLOEXEC, type Syscalls } from '@berth/syscall';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import type { ContainerEngine, ExitStatus } from './engine.js';
import { ConflictError, errorMessage, InvalidParameterError, NoSuchExecError } from './errors.js';
import type { StreamName } from './framing.js';
import { DEFAULT_DETACH_KEYS, detachKeyBytes } from './detach-keys.js';
import { StdinPipe } from './stdin.js';
import { containerPaths } from './stdio.js';
import { openTerminalSize, parseConsoleSize, resizeTerminal } from './terminal.js';

/** The ExecConfig fields berth uses (`POST /containers/{id}/exec`). */
export interface ExecConfig {
  Cmd: string[];
  Env: string[] | null;
  User: string;
  WorkingDir: string;
  Tty: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ConsoleSize: [number, number] | undefined;
  /** `DetachKeys` as moby's term.ToBytes reads it; empty when not given (the default applies). */
  DetachKeys: Buffer;
}

interface Session {
  id: string;
  containerId: string;
  config: ExecConfig;
  state: 'created' | 'running' | 'exited';
  pid: number;
  startTime: number;
  exitCode: number | null;
  /** When it finished; finished sessions are forgotten after a while, as dockerd does. */
  endedAt: number;
}

/** Where an exec's output goes while a client is attached. */
export interface ExecSink {
  write(stream: StreamName, chunk: Buffer): void;
  end(): void;
}

/** How a started exec is fed and watched. */
export interface StartedSession {
  /** Input for the command, when the exec attached stdin. */
  stdin: StdinPipe | undefined;
  /** Resolves when the command has exited and all its output was delivered. */
  done: Promise<void>;
  /** The detach keys of a terminal session with stdin (the exec's own, or Docker's default); undefined otherwise. */
  detachKeys: Buffer | undefined;
  /** The client pressed the detach keys: its stream ends, the command runs on (its output is dropped, its stdin stays open). */
  detach(): void;
}

/** Finished execs stay inspectable this long (the CLI reads the exit code right after the stream ends). */
const KEEP_FINISHED_MS = 5 * 60_000;

export interface ExecSessionsOptions {
  root: string;
  store: ContainerStore;
  engine: ContainerEngine;
  syscalls: Syscalls;
  /** The running init of a container: pid and start time; undefined when it is not running. */
  running(containerId: string): { pid: number; startTime: number } | undefined;
  /** Whether the container is paused (exec is refused, as by dockerd). */
  paused?(containerId: string): boolean;
  /** A container event (`docker events`: exec_create, exec_start, exec_die). */
  publish?(action: string, rec: ContainerRecord, extra: Record<string, string>): void;
  /** Docker's legacy link variables of the container (`--link` on the default bridge), for each exec. */
  linkEnv?(rec: ContainerRecord): readonly string[];
}

/**
 * `docker exec`: sessions created against a running container, started
 * once, their output streamed to the client that started them (pipes: an
 * exec lives no longer than its supervisor, unlike a container), their exit
 * code kept for `GET /exec/{id}/json`.
 */
export class ExecSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly o: ExecSessionsOptions) {}

  create(containerRef: string, body: unknown): { Id: string } {
    const rec = this.o.store.resolve(containerRef);
    const config = parseExecConfig(body);
    if (!this.o.running(rec.id)) throw new ConflictError(`Container ${rec.id} is not running`);
    if (this.o.paused?.(rec.id)) throw new ConflictError(`Container ${containerRef} is paused, unpause the container before exec`);
    this.forgetOld();
    const id = randomBytes(32).toString('hex');
    this.sessions.set(id, { id, containerId: rec.id, config, state: 'created', pid: 0, startTime: 0, exitCode: null, endedAt: 0 });
    this.o.publish?.(`exec_create: ${config.Cmd.join(' ')}`, rec, { execID: id });
    return { Id: id };
  }

  get(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new NoSuchExecError(id);
    return s;
  }

  /** Runs the command; its output goes to `sink` (dropped when detached) until it is done. */
  async start(id: string, attached: ExecSink | undefined): Promise<StartedSession> {
    let sink = attached;
    const s = this.get(id);
    if (s.state !== 'created') throw new ConflictError(`cannot start exec instance ${id}: it has already been started; create another`);
    const live = this.o.running(s.containerId);
    if (!live) throw new ConflictError(`Container ${s.containerId} is not running`);
    if (this.o.paused?.(s.containerId)) throw new ConflictError(`Container ${s.containerId} is paused, unpause the container before exec`);
    const rec = this.o.store.get(s.containerId);
    s.state = 'running';
    const tty = s.config.Tty;
    const files = this.files(rec, s);
    const pipes = { out: this.o.syscalls.pipe2(O_CLOEXEC), err: tty ? undefined : this.o.syscalls.pipe2(O_CLOEXEC) };
    const stdin = s.config.AttachStdin && sink ? new StdinPipe(this.o.syscalls) : undefined;
    const terminalSize = tty ? openTerminalSize(files.winsize, s.config.ConsoleSize) : undefined;
    let exited: Promise<ExitStatus>;
    try {
      const linkEnv = this.o.linkEnv?.(rec) ?? [];
      const started = await this.o.engine.exec({
        id: rec.id, pid: live.pid, startTime: live.startTime, config: rec.config, security: rec.security,
        ...(linkEnv.length > 0 ? { linkEnv } : {}),
        exec: { Cmd: s.config.Cmd, Env: s.config.Env, User: s.config.User, WorkingDir: s.config.WorkingDir, Tty: tty },
        stdio: {
          ...(stdin ? { stdin: stdin.containerFd } : {}), stdout: pipes.out[1], stderr: (pipes.err ?? pipes.out)[1],
          ...(terminalSize !== undefined ? { terminalSize } : {}),
        },
        statusPath: files.status,
      });
      s.pid = started.pid;
      s.startTime = started.startTime;
      exited = started.exited;
      this.o.publish?.(`exec_start: ${s.config.Cmd.join(' ')}`, rec, { execID: id });
    } catch (err) {
      for (const p of [pipes.out, pipes.err]) if (p) { closeSync(p[0]); closeSync(p[1]); }
      stdin?.destroy();
      s.state = 'exited';
      s.exitCode = EXEC_FAILED;
      s.endedAt = Date.now();
      throw err;
    } finally {
      // The helper holds its own copies now.
      for (const p of [pipes.out, pipes.err]) if (p) closeSync(p[1]);
      if (terminalSize !== undefined) closeSync(terminalSize);
      stdin?.releaseReadEnd();
    }
    const drained = Promise.all([
      drain(pipes.out[0], (chunk) => sink?.write('stdout', chunk)),
      ...(pipes.err ? [drain(pipes.err[0], (chunk) => sink?.write('stderr', chunk))] : []),
    ]);
    const done = exited.then(async (status) => {
      // Docker reports every exec that could not be started (not found, not executable) as 126.
      s.exitCode = status.error !== undefined && status.exitCode !== 125 ? EXEC_FAILED : status.exitCode;
      this.o.publish?.('exec_die', rec, { execID: id, exitCode: String(s.exitCode) });
      // Output a command left to descendants still comes until they close it, as with Docker.
      await drained;
      if (status.error !== undefined) sink?.write('stdout', Buffer.from(`${execFailureMessage(status.error)}\r\n`));
      s.state = 'exited';
      s.endedAt = Date.now();
      stdin?.destroy();
      rmSync(files.status, { force: true });
      rmSync(files.winsize, { force: true });
      sink?.end();
    }, (err: unknown) => {
      console.error(`berth: failed to watch exec ${id}: ${errorMessage(err)}`);
      s.state = 'exited';
      s.exitCode = 125;
      s.endedAt = Date.now();
      sink?.end();
    });
    const detachKeys = tty && stdin ? (s.config.DetachKeys.length > 0 ? s.config.DetachKeys : DEFAULT_DETACH_KEYS) : undefined;
    const detach = (): void => {
      const was = sink;
      sink = undefined;
      was?.end();
      this.o.publish?.('exec_detach', rec, { execID: id });
    };
    return { stdin, done, detachKeys, detach };
  }

  /** `POST /exec/{id}/resize`: the exec's terminal takes the size (its helper re-reads it on SIGWINCH). */
  resize(id: string, rows: number, cols: number): void {
    const s = this.get(id);
    if (s.state !== 'running') throw new ConflictError(`exec instance ${id} is not running`);
    if (!s.config.Tty) return;
    resizeTerminal(this.o.syscalls, this.files(this.o.store.get(s.containerId), s).winsize, s, rows, cols);
  }

  /** Docker's ExecInspect shape: DetachKeys are the key bytes, base64 as Go encodes a []byte; Pid stays after the exit. */
  inspect(id: string): Record<string, unknown> {
    const s = this.get(id);
    const [entrypoint, ...args] = s.config.Cmd;
    return {
      ID: s.id, Running: s.state === 'running', ExitCode: s.exitCode,
      ProcessConfig: { tty: s.config.Tty, entrypoint, arguments: args, privileged: false, ...(s.config.User !== '' ? { user: s.config.User } : {}) },
      OpenStdin: s.config.AttachStdin, OpenStderr: s.config.AttachStderr, OpenStdout: s.config.AttachStdout, CanRemove: false,
      ContainerID: s.containerId, DetachKeys: s.config.DetachKeys.toString('base64'), Pid: s.pid,
    };
  }

  /** The container is gone: so are its exec sessions. */
  dropContainer(containerId: string): void {
    for (const [id, s] of this.sessions) if (s.containerId === containerId) this.sessions.delete(id);
  }

  private forgetOld(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (s.state === 'exited' && now - s.endedAt > KEEP_FINISHED_MS) this.sessions.delete(id);
  }

  private files(rec: ContainerRecord, s: Session): { status: string; winsize: string } {
    const dir = containerPaths(this.o.root, rec.id).dir;
    return { status: join(dir, `exec-${s.id}.status`), winsize: join(dir, `exec-${s.id}.winsize`) };
  }
}

/** Reads a pipe to its end. */
function drain(fd: number, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    pipe.on('data', onData);
    pipe.on('close', () => resolve());
    pipe.on('error', () => pipe.destroy());
  });
}

/** What Docker records for an exec it could not start. */
const EXEC_FAILED = 126;

/**
 * Docker's message on the stream for an exec that could not start (runc's
 * wording, which clients and users match on), from the init's
 * `exec failed: exec: "X": why`.
 */
export function execFailureMessage(error: string): string {
  // Go spells errno texts in lower case ("permission denied"), strerror capitalises them.
  const why = error.replace(/^exec failed: /, '').replace(/: ([A-Z])([a-z][^:]*)$/, (_m, first: string, rest: string) => `: ${first.toLowerCase()}${rest}`);
  return `OCI runtime exec failed: exec failed: unable to start container process: ${why}: unknown`;
}

const CMD_MESSAGE = 'No exec command specified';

/** Validates `POST /containers/{id}/exec`'s body. */
export function parseExecConfig(body: unknown): ExecConfig {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError(CMD_MESSAGE);
  const b = body as Record<string, unknown>;
  const cmd = b['Cmd'];
  if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((c) => typeof c === 'string')) throw new InvalidParameterError(CMD_MESSAGE);
  const strings = (key: string): string[] | null => {
    const v = b[key];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) throw new InvalidParameterError(`invalid JSON in request body: ${key} must be a list of strings`);
    return v as string[];
  };
  const text = (key: string): string => {
    const v = b[key];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new InvalidParameterError(`invalid JSON in request body: ${key} must be a string`);
    return v;
  };
  const flag = (key: string): boolean => b[key] === true;
  if (flag('Privileged')) throw new InvalidParameterError('berth does not implement privileged exec (Privileged): leave --privileged out');
  const detachKeys = text('DetachKeys');
  let keys: Buffer = Buffer.alloc(0);
  if (detachKeys !== '') {
    try {
      keys = detachKeyBytes(detachKeys);
    } catch {
      throw new InvalidParameterError(`Invalid escape keys (${detachKeys}) provided`);
    }
  }
  return {
    Cmd: cmd as string[], Env: strings('Env'), User: text('User'), WorkingDir: text('WorkingDir'), Tty: flag('Tty'),
    AttachStdin: flag('AttachStdin'), AttachStdout: flag('AttachStdout'), AttachStderr: flag('AttachStderr'), ConsoleSize: parseConsoleSize(b['ConsoleSize']),
    DetachKeys: keys,
  };
}
