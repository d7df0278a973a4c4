import type { Context } from '../context.js';
import { PS_HEADER, psJson, psRow, type ContainerSummary } from '../format/containers.js';
import { formatJsonLines, formatTable } from '../format/table.js';
import { shortId } from '../format/text.js';
import { UsageError } from '../errors.js';

export async function ps(ctx: Context, opts: { all?: boolean; quiet?: boolean; format?: string }): Promise<number> {
  if (opts.format !== undefined && opts.format !== 'json' && opts.format !== 'table') {
    throw new UsageError(`unsupported --format '${opts.format}': use json or table`);
  }
  const client = await ctx.client();
  const list = await client.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: opts.all } });
  if (opts.quiet === true) ctx.out.write(list.map((c) => `${shortId(c.Id)}\n`).join(''));
  else if (opts.format === 'json') ctx.out.write(formatJsonLines(list.map((c) => psJson(c))));
  else ctx.out.write(formatTable(PS_HEADER, list.map((c) => psRow(c))));
  return 0;
}
