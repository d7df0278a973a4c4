import { EventEmitter } from 'node:events';
import { closeSync, constants as fsc, existsSync, lstatSync, mkdirSync, openSync, readSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { AT_FDCWD, S_IFIFO, type Syscalls } from '@berth/syscall';
import type { StdioFds } from './engine.js';
import type { StreamName } from './framing.js';
import { JsonLogWriter, type LogRecord } from './json-log.js';

/** The supervisor's own files of one container. */
export interface ContainerPaths {
  dir: string;
  stdoutFifo: string;
  stderrFifo: string;
  status: string;
  log: string;
}

/**
 * Kept apart from the layer store's `<root>/containers/<id>/`, which the
 * layer store builds under a temporary name and renames into place (it
 * refuses a directory that already exists, and the FIFOs must exist before
 * the launch).
 */
export function containerPaths(root: string, id: string): ContainerPaths {
  const dir = join(root, 'supervisor', id);
  return {
    dir,
    stdoutFifo: join(dir, 'stdout.fifo'),
    stderrFifo: join(dir, 'stderr.fifo'),
    status: join(dir, 'status'),
    log: join(dir, `${id}-json.log`),
  };
}

function ensureFifo(syscalls: Syscalls, path: string): void {
  if (existsSync(path)) {
    if (lstatSync(path).isFIFO()) return;
    unlinkSync(path);
  }
  syscalls.mknodat(AT_FDCWD, path, S_IFIFO | 0o600, 0);
}

/**
 * The container's stdio, made so that it survives the supervisor: two FIFOs
 * in the container's directory. The container gets each opened O_RDWR
 * (which never blocks, and keeps a reader on the pipe so the container never
 * gets SIGPIPE when the supervisor is gone; it blocks only once 64 KiB are
 * unread). The supervisor reads each through its own O_RDONLY|O_NONBLOCK fd
 * and can reopen them after a restart to drain what was written meanwhile.
 */
export function openStdioForStart(syscalls: Syscalls, paths: ContainerPaths): { stdio: StdioFds; close: () => void } {
  mkdirSync(paths.dir, { recursive: true, mode: 0o710 });
  ensureFifo(syscalls, paths.stdoutFifo);
  ensureFifo(syscalls, paths.stderrFifo);
  const fds: number[] = [];
  try {
    fds.push(openSync('/dev/null', fsc.O_RDONLY));
    fds.push(openSync(paths.stdoutFifo, fsc.O_RDWR));
    fds.push(openSync(paths.stderrFifo, fsc.O_RDWR));
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    throw err;
  }
  let closed = false;
  return {
    stdio: { stdin: fds[0]!, stdout: fds[1]!, stderr: fds[2]! },
    close: () => {
      if (closed) return;
      closed = true;
      for (const fd of fds) closeSync(fd);
    },
  };
}

/**
 * Reads both FIFOs into the json-file log and tells listeners: 'record'
 * (LogRecord) for each record written. `drained` resolves once both streams
 * reached EOF (no writer left: the container and everything that inherited
 * its stdio are gone); the owner then calls `finish()`, which may add
 * berth's own last words and emits 'end'.
 */
export class OutputPump extends EventEmitter {
  readonly drained: Promise<void>;
  private readonly sockets: Socket[] = [];
  private readonly fds: [StreamName, number][] = [];
  private resolveDrained!: () => void;
  private readonly writer: JsonLogWriter;
  private open = 2;
  private finished = false;

  /** `readFifos: false` when the FIFOs are gone (output lost): the pump is drained from the start. */
  constructor(paths: ContainerPaths, opts: { readFifos?: boolean } = {}) {
    super();
    this.writer = new JsonLogWriter(paths.log);
    let resolveDrained!: () => void;
    this.drained = new Promise((r) => { resolveDrained = r; });
    this.resolveDrained = resolveDrained;
    const streams: [StreamName, string][] = opts.readFifos === false ? [] : [['stdout', paths.stdoutFifo], ['stderr', paths.stderrFifo]];
    if (streams.length === 0) resolveDrained();
    for (const [stream, fifo] of streams) {
      const fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
      this.fds.push([stream, fd]);
      const sock = new Socket({ fd, readable: true, writable: false });
      sock.setEncoding('utf8');
      sock.on('data', (text: string) => this.record(stream, text));
      let done = false;
      const eof = (): void => {
        if (done) return;
        done = true;
        sock.destroy();
        if (--this.open === 0) resolveDrained();
      };
      sock.on('end', eof);
      sock.on('close', eof);
      sock.on('error', eof);
      this.sockets.push(sock);
    }
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Append a record as if the container had written it (berth's own messages, e.g. why a command did not run). */
  record(stream: StreamName, text: string): void {
    if (this.finished) return;
    for (const rec of this.writer.write(stream, text)) this.emit('record', rec satisfies LogRecord);
  }

  /**
   * For a container known to be gone: read what is left synchronously and
   * count both streams as ended. Needed because a FIFO opened when it had no
   * writer never reports hang-up (the kernel suppresses EPOLLHUP until a
   * writer has been seen), so EOF would never arrive.
   */
  drainNow(): void {
    const buf = Buffer.alloc(65536);
    for (const [stream, fd] of this.fds) {
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch {
          break; // EAGAIN: empty, writers still around (cannot be: the container is gone) or closed
        }
        if (n <= 0) break;
        this.record(stream, buf.subarray(0, n).toString('utf8'));
      }
    }
    for (const s of this.sockets) {
      s.removeAllListeners('data');
      s.destroy();
    }
    this.resolveDrained();
  }

  finish(lastWords?: string): void {
    if (this.finished) return;
    if (lastWords) this.record('stderr', lastWords);
    this.finished = true;
    this.writer.close();
    this.emit('end');
  }

  /** Stop reading without waiting for EOF (supervisor shutdown: the container keeps running and writing). */
  detach(): void {
    this.finished = true;
    for (const s of this.sockets) {
      s.removeAllListeners('data');
      s.removeAllListeners('end');
      s.removeAllListeners('close');
      s.destroy();
    }
    this.writer.close();
  }
}
