/** start, stop, restart, kill, rm, wait, rename, top, container prune: API calls per named container. */
import { encodeFilters } from '../client.js';
import type { Context } from '../context.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { humanSize } from '../format/size.js';
import { formatTable } from '../format/table.js';
import { confirm } from '../prompt.js';
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

export async function rename(ctx: Context, container: string, name: string): Promise<number> {
  const client = await ctx.client();
  await client.request('POST', `/containers/${enc(container)}/rename`, { query: { name } });
  return 0;
}

/** `container prune`: docker's prompt, its report, and its filters (label, label!, until). */
export async function containerPrune(ctx: Context, opts: { force?: boolean; filter: string[] }): Promise<number> {
  if (opts.force !== true && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.'))) return 0;
  const client = await ctx.client();
  const report = await client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: { filters: encodeFilters(opts.filter) } });
  const deleted = report.ContainersDeleted ?? [];
  if (deleted.length > 0) ctx.out.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
  ctx.out.write(`Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`);
  return 0;
}

/** `top`: the container's processes, in the table the daemon sends (ps -ef's columns). */
export async function top(ctx: Context, container: string): Promise<number> {
  const client = await ctx.client();
  const table = await client.json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${enc(container)}/top`);
  ctx.out.write(formatTable(table.Titles, table.Processes ?? []));
  return 0;
}
