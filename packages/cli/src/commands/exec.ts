import type { Context } from '../context.js';
import { resolveEnv } from '../create-body.js';
import { detachWatcher, runSession, terminalSize } from '../interactive.js';
import { enc } from './common.js';

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  user?: string;
  workdir?: string;
  env: string[];
  detachKeys?: string;
}

/** `berth exec`: docker's order, create → start (hijacked) → inspect for the exit code. */
export async function exec(ctx: Context, container: string, command: string[], flags: ExecFlags): Promise<number> {
  // Only a terminal session with input can detach; loaded (and checked) only then, or when asked for.
  const watcher = (flags.interactive === true && flags.tty === true) || flags.detachKeys !== undefined ? await detachWatcher(flags.detachKeys) : undefined;
  const client = await ctx.client();
  const interactive = flags.interactive === true;
  const tty = flags.tty === true;
  const attached = flags.detach !== true;
  const env = resolveEnv(flags.env, ctx.env);
  const consoleSize = tty ? terminalSize(ctx.out) : undefined;
  const { Id: id } = await client.json<{ Id: string }>('POST', `/containers/${enc(container)}/exec`, {
    body: {
      Cmd: command, AttachStdin: interactive && attached, AttachStdout: attached, AttachStderr: attached, Tty: tty,
      User: flags.user ?? '', WorkingDir: flags.workdir ?? '', Env: env.length > 0 ? env : null,
      ...(consoleSize ? { ConsoleSize: consoleSize } : {}), ...(flags.detachKeys ? { DetachKeys: flags.detachKeys } : {}),
    },
  });
  if (!attached) {
    await client.request('POST', `/exec/${enc(id)}/start`, { body: { Detach: true, Tty: tty } });
    return 0;
  }
  const stream = await client.execStart(id, tty);
  // The command runs on after a detach; docker exec says so and exits 1.
  if (await runSession(ctx, client, stream, { interactive, tty, watcher, resizePath: `/exec/${enc(id)}/resize` })) return 1;
  const info = await client.json<{ ExitCode: number | null }>('GET', `/exec/${enc(id)}/json`);
  return info.ExitCode ?? 0;
}
