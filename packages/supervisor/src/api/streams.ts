import type { Duplex } from 'node:stream';
import type { ContainerRecord } from '../container-store.js';
import { frame, streamType } from '../framing.js';
import { type LogQuery, type LogRecord, matches, readLog } from '../json-log.js';
import type { Lifecycle } from '../lifecycle.js';
import type { StdinPipe } from '../stdin.js';
import { containerPaths } from '../stdio.js';
import { DetachWatcher } from '../detach-keys.js';
import { API_VERSION, commonHeaders } from './http-util.js';
import { apiVersionBefore } from './router.js';

/** Where a container's output goes: an HTTP response body or a hijacked socket. */
export interface StreamSink {
  write(buf: Buffer): void;
  end(): void;
  /** Called once when the client goes away. */
  onClose(fn: () => void): void;
}

export interface OutputRequest extends LogQuery {
  /** Replay what is already in the log first. */
  logs: boolean;
  /** Keep streaming live output until this run's output ends. */
  follow: boolean;
  timestamps: boolean;
}

/**
 * A terminal's output is one raw stream; otherwise stdout and stderr are
 * multiplexed in frames. Before API 1.42 Docker called both raw-stream.
 */
export function streamContentType(tty: boolean, apiVersion: string = API_VERSION): string {
  return tty || apiVersionBefore(apiVersion, '1.42') ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
}

export function contentTypeFor(rec: ContainerRecord, apiVersion?: string): string {
  return streamContentType(rec.config.Tty === true, apiVersion);
}

/** The answer to `Upgrade: tcp` (attach, exec start): `101 UPGRADED`, then the socket carries the stream. */
export function writeUpgraded(socket: Duplex, contentType: string): void {
  const headers = { ...commonHeaders(), 'Content-Type': contentType, 'Connection': 'Upgrade', 'Upgrade': 'tcp' };
  socket.write('HTTP/1.1 101 UPGRADED\r\n' + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
}

function encode(rec: ContainerRecord, r: LogRecord, timestamps: boolean): Buffer {
  const payload = Buffer.from(timestamps ? `${r.time} ${r.log}` : r.log, 'utf8');
  return rec.config.Tty === true ? payload : frame(streamType(r.stream), payload);
}

/**
 * Stream a container's output to a sink: the log so far (when asked), then
 * live records until the output of the run ends. The replay and the
 * subscription happen in the same tick (the log writer is synchronous), so
 * nothing is lost or doubled between them. A container that has not started
 * yet is waited for: `run` attaches before it starts.
 */
export function streamOutput(lifecycle: Lifecycle, root: string, rec: ContainerRecord, q: OutputRequest, sink: StreamSink): void {
  if (q.logs) {
    for (const r of readLog(containerPaths(root, rec.id).log, q)) sink.write(encode(rec, r, q.timestamps));
  }
  const waitForStart = rec.state === 'created';
  if (!q.follow || (!lifecycle.isRunning(rec.id) && !waitForStart)) {
    sink.end();
    return;
  }
  const ch = lifecycle.channel(rec.id);
  const { tail: _tail, ...live } = q;
  const onRecord = (r: LogRecord): void => {
    if (matches(r, live)) sink.write(encode(rec, r, q.timestamps));
  };
  const onEnd = (): void => {
    cleanup();
    sink.end();
  };
  const cleanup = (): void => {
    ch.off('record', onRecord);
    ch.off('end', onEnd);
  };
  ch.on('record', onRecord);
  ch.on('end', onEnd);
  sink.onClose(cleanup);
}

/** A terminal session's detach sequence and what detaching does. */
export interface DetachOptions {
  keys: Buffer;
  onDetach: () => void;
}

/**
 * A hijacked socket's input (attach or exec start). Into `stdin`, with
 * back-pressure; the client's half-close ends it when `endOnHalfClose`. With
 * no stdin the input is read and dropped, and the half-close the docker CLI
 * sends at once does not end the output: writing goes on after its FIN.
 * With `detach`, the key sequence ends the session instead of reaching the
 * command (a terminal session with stdin, as Docker's).
 */
export function feedStdin(socket: Duplex, stdin: StdinPipe | undefined, opts: { endOnHalfClose: boolean; first?: Buffer; detach?: DetachOptions }): void {
  if (!stdin) {
    socket.on('data', () => undefined);
    socket.on('end', () => undefined);
    socket.resume();
    return;
  }
  const watcher = opts.detach ? new DetachWatcher(opts.detach.keys) : undefined;
  let detached = false;
  const write = (chunk: Buffer): void => {
    if (chunk.length > 0 && !stdin.write(chunk)) {
      socket.pause();
      stdin.onDrain(() => { if (!detached) socket.resume(); });
    }
  };
  const push = (chunk: Buffer): void => {
    if (detached) return;
    if (!watcher) {
      write(chunk);
      return;
    }
    const { pass, detach } = watcher.feed(chunk);
    write(pass);
    if (detach) {
      detached = true;
      socket.off('data', push);
      opts.detach!.onDetach();
    }
  };
  if (opts.first !== undefined && opts.first.length > 0) push(opts.first);
  socket.on('data', push);
  if (opts.endOnHalfClose) {
    const end = (): void => { if (!detached) stdin.end(); };
    socket.on('end', end);
    socket.on('close', end);
  }
  socket.resume();
}
