import type { ApiClient } from '../client.js';
import type { Context } from '../context.js';
import type { CreateFlags } from '../create-body.js';
import { pumpStream } from '../attach.js';
import { followTerminalSize, detachWatcher, rawMode, sendInput } from '../interactive.js';
import { DaemonError } from '../errors.js';
import { exitCodeForStartError, exitCodeForStatus } from '../exit-codes.js';
import { createContainer } from './create.js';
import { enc } from './common.js';

/** While attached, SIGINT/SIGTERM go to the container (docker's sig-proxy) instead of ending berth. */
function forwardSignals(client: ApiClient, id: string): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = (): void => {
      client.request('POST', `/containers/${enc(id)}/kill`, { query: { signal: signal.slice(3) } }).catch(() => undefined);
    };
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

export interface RunFlags extends CreateFlags {
  /** `--detach-keys`: the sequence that leaves an `-it` session with the container running. */
  detachKeys?: string;
}

/**
 * docker's order: create → attach → wait (next-exit, or removed for --rm) →
 * start; exit with wait's StatusCode. Detaching (`-it`, ctrl-p ctrl-q) exits
 * 0 and leaves the container running, as `docker run` does.
 */
export async function run(ctx: Context, image: string, command: string[], flags: RunFlags): Promise<number> {
  // Only a terminal session with input can detach; loaded (and checked) only then, or when asked for.
  const watcher = (flags.interactive === true && flags.tty === true) || flags.detachKeys !== undefined ? await detachWatcher(flags.detachKeys) : undefined;
  const client = await ctx.client();
  const id = await createContainer(ctx, client, flags, image, command);
  if (flags.detach === true) {
    await client.request('POST', `/containers/${enc(id)}/start`);
    ctx.out.write(`${id}\n`);
    return 0;
  }
  const interactive = flags.interactive === true;
  const tty = flags.tty === true;
  const stream = await client.attach(id, { stdin: interactive, ...(flags.detachKeys ? { detachKeys: flags.detachKeys } : {}) });
  const output = pumpStream(stream, ctx.out, ctx.err, tty);
  // A terminal container with our own terminal: keys go through raw, as with docker -it.
  const restoreTerminal = interactive && tty ? rawMode(ctx.stdin) : () => undefined;
  let detached = (): void => undefined;
  const detachedNow = new Promise<'detached'>((resolve) => { detached = () => resolve('detached'); });
  if (interactive) {
    sendInput(ctx.stdin, stream, tty && watcher ? { watcher, onDetach: () => { stream.destroy(); detached(); } } : undefined);
  }
  const { result } = await client.wait(id, flags.rm === true ? 'removed' : 'next-exit');
  // With a terminal, Ctrl-C reaches the container through it, not as a forwarded signal.
  let stopForwarding = tty ? (): void => undefined : forwardSignals(client, id);
  try {
    try {
      await client.request('POST', `/containers/${enc(id)}/start`);
      if (tty) stopForwarding = followTerminalSize(client, `/containers/${enc(id)}/resize`, ctx.out);
    } catch (error) {
      stream.destroy();
      if (error instanceof DaemonError) {
        ctx.err.write(`${error.render()}\n`);
        return exitCodeForStartError(error.daemonMessage);
      }
      throw error;
    }
    const finished = await Promise.race([Promise.all([result, output]), detachedNow]);
    if (finished === 'detached') return 0;
    const [status] = finished;
    if (status.Error?.Message) ctx.err.write(`berth: ${status.Error.Message}\n`);
    return exitCodeForStatus(status.StatusCode);
  } finally {
    stopForwarding();
    restoreTerminal();
  }
}
