import type { Context } from '../context.js';
import { encodeFilters } from '../client.js';
import { UsageError } from '../errors.js';
import { humanSize } from '../format/size.js';
import { formatJsonLines, formatTable } from '../format/table.js';
import { VOLUME_HEADER, volumeJson, volumeRow, type VolumeSummary } from '../format/volumes.js';
import { confirm } from '../prompt.js';
import { enc, forEachName, keyValues } from './common.js';

export async function volumeCreate(ctx: Context, name: string | undefined, opts: { driver?: string; label: string[]; opt: string[] }): Promise<number> {
  const body: Record<string, unknown> = { Driver: opts.driver ?? 'local' };
  if (name !== undefined) body['Name'] = name;
  body['Labels'] = keyValues('--label', opts.label);
  body['DriverOpts'] = keyValues('--opt', opts.opt);
  const client = await ctx.client();
  const volume = await client.json<VolumeSummary>('POST', '/volumes/create', { body });
  ctx.out.write(`${volume.Name}\n`);
  return 0;
}

export async function volumeLs(ctx: Context, opts: { quiet?: boolean; filter: string[]; format?: string }): Promise<number> {
  if (opts.format !== undefined && opts.format !== 'json' && opts.format !== 'table') {
    throw new UsageError(`unsupported --format '${opts.format}': use json or table`);
  }
  const client = await ctx.client();
  const res = await client.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: encodeFilters(opts.filter) } });
  const volumes = [...(res.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  if (opts.quiet === true) ctx.out.write(volumes.map((v) => `${v.Name}\n`).join(''));
  else if (opts.format === 'json') ctx.out.write(formatJsonLines(volumes.map(volumeJson)));
  else ctx.out.write(formatTable(VOLUME_HEADER, volumes.map(volumeRow)));
  return 0;
}

export async function volumeRm(ctx: Context, names: string[], opts: { force?: boolean }): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('DELETE', `/volumes/${enc(name)}`, { query: { force: opts.force } });
  });
}

export async function volumePrune(ctx: Context, opts: { all?: boolean; force?: boolean; filter: string[] }): Promise<number> {
  const warning = opts.all === true
    ? 'WARNING! This will remove all local volumes not used by at least one container.'
    : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
  if (opts.force !== true && !(await confirm(ctx, warning))) return 0;
  const client = await ctx.client();
  const filters = encodeFilters([...(opts.all === true ? ['all=true'] : []), ...opts.filter]);
  const report = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters } });
  const deleted = report.VolumesDeleted ?? [];
  if (deleted.length > 0) ctx.out.write(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
  ctx.out.write(`Total reclaimed space: ${humanSize(deleted.length > 0 ? (report.SpaceReclaimed ?? 0) : 0)}\n`);
  return 0;
}
