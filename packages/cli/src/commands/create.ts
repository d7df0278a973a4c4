import type { ApiClient } from '../client.js';
import type { Context } from '../context.js';
import { buildCreateRequest, type CreateFlags } from '../create-body.js';
import { UsageError, type DaemonError } from '../errors.js';
import { terminalSize } from '../interactive.js';
import { isNotFound } from './common.js';

const PULL_POLICIES = ['always', 'missing', 'never'];

/**
 * `POST /containers/create`, with the docker CLI's pull policy (the API's
 * create never pulls): `missing` (the default) pulls when the daemon says
 * the image is not there, then creates again; `always` pulls first; `never`
 * passes the daemon's "No such image" on.
 */
export async function createContainer(ctx: Context, client: ApiClient, flags: CreateFlags, image: string, command: readonly string[]): Promise<string> {
  const policy = flags.pull ?? 'missing';
  // The docker CLI's words.
  if (!PULL_POLICIES.includes(policy)) throw new UsageError(`invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
  const consoleSize = terminalSize(ctx.out);
  const request = buildCreateRequest(consoleSize ? { ...flags, consoleSize } : flags, image, command, { cwd: ctx.cwd, env: ctx.env });
  const pullOptions = { missing: policy === 'missing', ...(flags.platform === undefined ? {} : { platform: flags.platform }) };
  if (policy === 'always') await (await import('./registry.js')).pullForRun(ctx, image, pullOptions);
  const post = async (): Promise<string> => {
    const created = await client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: request.name, platform: flags.platform },
      body: request.body,
    });
    for (const warning of created.Warnings ?? []) ctx.err.write(`WARNING: ${warning}\n`);
    return created.Id;
  };
  try {
    return await post();
  } catch (error) {
    if (policy !== 'missing' || !isNotFound(error) || !/no such image/i.test((error as DaemonError).daemonMessage)) throw error;
  }
  await (await import('./registry.js')).pullForRun(ctx, image, pullOptions);
  return post();
}

export async function create(ctx: Context, image: string, command: string[], flags: CreateFlags): Promise<number> {
  const id = await createContainer(ctx, await ctx.client(), flags, image, command);
  ctx.out.write(`${id}\n`);
  return 0;
}
