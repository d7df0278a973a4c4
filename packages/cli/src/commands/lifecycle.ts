/** start, stop, kill, rm, wait: one API call per named container. */
import type { Context } from '../context.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { enc, forEachName } from './common.js';

export async function start(ctx: Context, names: string[]): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/start`);
  });
}

export async function stop(ctx: Context, names: string[], opts: { timeout?: string }): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/stop`, { query: { t: opts.timeout } });
  });
}

export async function restart(ctx: Context, names: string[], opts: { timeout?: string }): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/restart`, { query: { t: opts.timeout } });
  });
}

export async function kill(ctx: Context, names: string[], opts: { signal?: string }): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/kill`, { query: { signal: opts.signal } });
  });
}

export async function rm(ctx: Context, names: string[], opts: { force?: boolean; volumes?: boolean }): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('DELETE', `/containers/${enc(name)}`, { query: { v: opts.volumes, force: opts.force } });
  });
}

/** Prints each container's exit status; berth exits with the last one (the container's own code). */
export async function wait(ctx: Context, names: string[]): Promise<number> {
  const client = await ctx.client();
  let last = 0;
  for (const name of names) {
    const { result } = await client.wait(name);
    const status = await result;
    ctx.out.write(`${status.StatusCode}\n`);
    last = exitCodeForStatus(status.StatusCode);
  }
  return last;
}
