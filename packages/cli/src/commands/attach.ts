import type { Context } from '../context.js';
import { pumpStream } from '../attach.js';
import { DaemonError } from '../errors.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { DETACHED_MESSAGE, followTerminalSize, detachWatcher, rawMode, sendInput } from '../interactive.js';
import { enc } from './common.js';

export interface AttachFlags {
  detachKeys?: string;
  /** commander's `--no-stdin`. */
  stdin?: boolean;
}

/**
 * `berth attach`: the docker CLI's order, inspect → wait (next-exit) →
 * attach; our input goes to a container with OpenStdin, and the exit is the
 * container's exit code. The detach keys leave it running: "read escape
 * sequence", exit 1, as docker attach says.
 */
export async function attach(ctx: Context, container: string, flags: AttachFlags): Promise<number> {
  const watcher = await detachWatcher(flags.detachKeys);
  const client = await ctx.client();
  const info = await client.json<{ Id: string; State: { Running: boolean; Paused?: boolean }; Config: { Tty?: boolean; OpenStdin?: boolean } }>(
    'GET', `/containers/${enc(container)}/json`);
  if (!info.State.Running) throw new DaemonError(409, 'You cannot attach to a stopped container, start it first');
  const tty = info.Config.Tty === true;
  const interactive = info.Config.OpenStdin === true && flags.stdin !== false;
  const { result } = await client.wait(info.Id, 'next-exit');
  const stream = await client.attach(info.Id, { stdin: interactive, ...(flags.detachKeys ? { detachKeys: flags.detachKeys } : {}) });
  const restoreTerminal = interactive && tty ? rawMode(ctx.stdin) : () => undefined;
  let detached = false;
  if (interactive) {
    sendInput(ctx.stdin, stream, tty ? { watcher, onDetach: () => { detached = true; stream.destroy(); } } : undefined);
  }
  const stopResizing = tty ? followTerminalSize(client, `/containers/${enc(info.Id)}/resize`, ctx.out) : () => undefined;
  try {
    await pumpStream(stream, ctx.out, ctx.err, tty);
  } finally {
    stopResizing();
    restoreTerminal();
  }
  if (detached) {
    ctx.err.write(`${DETACHED_MESSAGE}\n`);
    return 1;
  }
  return exitCodeForStatus((await result).StatusCode);
}
