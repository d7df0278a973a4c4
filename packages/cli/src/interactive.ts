/** What `-i` and `-t` do on the client side, for `run` and `exec` alike. */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { DetachWatcher } from '@berth/supervisor/detach-keys';
import { pumpStream } from './attach.js';
import type { ApiClient } from './client.js';
import { UsageError } from './errors.js';

/** What the docker CLI says (and exits 1 with, for attach and exec) when the detach keys end a session. */
export const DETACHED_MESSAGE = 'read escape sequence';

/**
 * A watcher for `--detach-keys` (checked as the daemon checks them), or for
 * Docker's default ctrl-p,ctrl-q. The key syntax is the supervisor's, loaded
 * only by the commands that need it.
 */
export async function detachWatcher(keys: string | undefined): Promise<DetachWatcher> {
  const { DEFAULT_DETACH_KEYS, DetachWatcher: Watcher, detachKeyBytes } = await import('@berth/supervisor/detach-keys');
  if (keys === undefined || keys === '') return new Watcher(DEFAULT_DETACH_KEYS);
  try {
    return new Watcher(detachKeyBytes(keys));
  } catch {
    throw new UsageError(`Invalid detach keys (${keys}) provided`);
  }
}

/**
 * `-i`: our stdin goes to the container over the hijacked socket, and its
 * end half-closes the socket, which ends the command's stdin. On a terminal
 * (`detach` given) the detach keys (ours, or Docker's ctrl-p,ctrl-q) end the
 * session here, as the docker CLI does, and never reach the container.
 */
export function sendInput(input: Readable, stream: Readable | Duplex, detach?: { watcher: DetachWatcher; onDetach: () => void }): void {
  if (!('write' in stream)) return; // a daemon that answered with a plain 200 takes no input
  if (!detach) {
    input.pipe(stream, { end: true });
    stream.on('close', () => input.unpipe(stream));
    return;
  }
  const { watcher } = detach;
  const onData = (chunk: Buffer): void => {
    const { pass, detach: done } = watcher.feed(chunk);
    if (!done) {
      if (pass.length > 0 && !stream.destroyed) stream.write(pass);
      return;
    }
    stop();
    // What came before the keys still goes, then the session ends.
    if (pass.length > 0 && !stream.destroyed) stream.write(pass, () => detach.onDetach());
    else detach.onDetach();
  };
  const onEnd = (): void => { if (!stream.destroyed) stream.end(); };
  const stop = (): void => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.pause();
  };
  input.on('data', onData);
  input.on('end', onEnd);
  stream.on('close', stop);
}

/** `-it` on our own terminal: keys go through raw, as with docker. Returns the undo. */
export function rawMode(input: Readable): () => void {
  const terminal = input as Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  if (terminal.isTTY !== true || !terminal.setRawMode) return () => undefined;
  terminal.setRawMode(true);
  return () => terminal.setRawMode?.(false);
}

/** `-t`: the remote terminal takes our size now (ConsoleSize was a first guess) and follows each resize; `resizePath` is the API's resize endpoint. */
export function followTerminalSize(client: ApiClient, resizePath: string, out: Writable): () => void {
  const terminal = out as Writable & { isTTY?: boolean; rows?: number; columns?: number };
  if (terminal.isTTY !== true) return () => undefined;
  const resize = (): void => {
    if (!terminal.rows || !terminal.columns) return;
    client.request('POST', resizePath, { query: { h: terminal.rows, w: terminal.columns } }).catch(() => undefined);
  };
  resize();
  terminal.on('resize', resize);
  return () => terminal.off('resize', resize);
}

/** Our terminal's size, [rows, cols], when berth runs in one (ConsoleSize). */
export function terminalSize(out: Writable): [number, number] | undefined {
  const terminal = out as Writable & { isTTY?: boolean; rows?: number; columns?: number };
  return terminal.isTTY === true && terminal.rows && terminal.columns ? [terminal.rows, terminal.columns] : undefined;
}

/**
 * One hijacked session, as docker attach and docker exec run it: our input
 * (and, on a terminal, raw mode and the detach keys) when interactive, the
 * terminal size followed, and the output copied until the stream ends.
 * Returns true when the detach keys ended it, after saying so as the docker
 * CLI does; the caller then exits 1 and the command runs on.
 */
export async function runSession(
  io: { stdin: Readable; out: Writable; err: Writable },
  client: ApiClient,
  stream: Readable | Duplex,
  o: { interactive: boolean; tty: boolean; watcher: DetachWatcher | undefined; resizePath: string },
): Promise<boolean> {
  const restoreTerminal = o.interactive && o.tty ? rawMode(io.stdin) : () => undefined;
  let detached = false;
  if (o.interactive) {
    const watcher = o.watcher;
    sendInput(io.stdin, stream, o.tty && watcher ? { watcher, onDetach: () => { detached = true; stream.destroy(); } } : undefined);
  }
  const stopResizing = o.tty ? followTerminalSize(client, o.resizePath, io.out) : () => undefined;
  try {
    await pumpStream(stream, io.out, io.err, o.tty);
  } finally {
    stopResizing();
    restoreTerminal();
  }
  if (detached) io.err.write(`${DETACHED_MESSAGE}\n`);
  return detached;
}
