import type { ApiClient } from '../client.js';
import type { Context } from '../context.js';
import { buildCreateRequest, type CreateFlags } from '../create-body.js';
import { DaemonError } from '../errors.js';
import { terminalSize } from '../interactive.js';
import { isNotFound } from './common.js';

/** `POST /containers/create`; a missing image gets a hint instead of docker's pull. */
export async function createContainer(ctx: Context, client: ApiClient, flags: CreateFlags, image: string, command: readonly string[]): Promise<string> {
  const consoleSize = terminalSize(ctx.out);
  const request = buildCreateRequest(consoleSize ? { ...flags, consoleSize } : flags, image, command, { cwd: ctx.cwd, env: ctx.env });
  try {
    const created = await client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: request.name },
      body: request.body,
    });
    for (const warning of created.Warnings ?? []) ctx.err.write(`WARNING: ${warning}\n`);
    return created.Id;
  } catch (error) {
    if (isNotFound(error) && /image/i.test((error as DaemonError).daemonMessage)) {
      throw new DaemonError(404, `${(error as DaemonError).daemonMessage}; berth does not pull images: import it first with \`berth image import FILE.tar ${image}\``);
    }
    throw error;
  }
}

export async function create(ctx: Context, image: string, command: string[], flags: CreateFlags): Promise<number> {
  const id = await createContainer(ctx, await ctx.client(), flags, image, command);
  ctx.out.write(`${id}\n`);
  return 0;
}
