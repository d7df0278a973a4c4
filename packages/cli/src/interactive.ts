/** What `-i` and `-t` do on the client side, for `run` and `exec` alike. */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { ApiClient } from './client.js';

/**
 * `-i`: our stdin goes to the container over the hijacked socket, and its
 * end half-closes the socket, which ends the command's stdin.
 */
export function sendInput(input: Readable, stream: Readable | Duplex): void {
  if (!('write' in stream)) return; // a daemon that answered with a plain 200 takes no input
  input.pipe(stream, { end: true });
  stream.on('close', () => input.unpipe(stream));
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
