import type { Context } from '../context.js';
import { DaemonError } from '../errors.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { detachWatcher, runSession } from '../interactive.js';
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
  const resizePath = `/containers/${enc(info.Id)}/resize`;
  if (await runSession(ctx, client, stream, { interactive, tty, watcher, resizePath })) return 1;
  return exitCodeForStatus((await result).StatusCode);
}
