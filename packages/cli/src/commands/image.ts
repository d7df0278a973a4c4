import { createInterface } from 'node:readline';
import type { Context } from '../context.js';
import { openArchive } from '../archive-io.js';
import { DaemonError, EXIT_BERTH_FAILED, UsageError } from '../errors.js';
import { IMAGE_HEADER, imageJson, imageRows, splitReference, type ImageSummary } from '../format/images.js';
import { formatJsonLines, formatTable } from '../format/table.js';
import { withProgress } from '../progress.js';
import { enc } from './common.js';

/**
 * `POST /images/load?quiet=1`, streaming the archive with a progress bar.
 * `tag=REF` is a berth extension: tag the loaded image REF (without it the
 * archive's own tag stands). Errors arrive in-stream, as dockerd sends them.
 */
export async function imageImport(ctx: Context, file: string, ref: string | undefined): Promise<number> {
  const source = openArchive(ctx, file);
  const client = await ctx.client();
  const counted = await withProgress(source.stream, source.size, ctx.err, 'Loading');
  let res;
  try {
    res = await client.stream('POST', '/images/load', {
      query: { quiet: true, tag: ref, format: 'auto' },
      headers: { 'Content-Type': 'application/x-tar' },
      stream: counted.stream,
    });
  } finally {
    counted.stop();
  }
  for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const message = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string } };
    if (message.errorDetail !== undefined || message.error !== undefined) {
      throw new DaemonError(res.statusCode ?? 500, message.errorDetail?.message ?? message.error ?? 'image load failed');
    }
    if (message.stream !== undefined) ctx.out.write(message.stream);
  }
  return 0;
}

export async function imageLs(ctx: Context, opts: { quiet?: boolean; format?: string }): Promise<number> {
  if (opts.format !== undefined && opts.format !== 'json' && opts.format !== 'table') {
    throw new UsageError(`unsupported --format '${opts.format}': use json or table`);
  }
  const client = await ctx.client();
  const images = await client.json<ImageSummary[]>('GET', '/images/json');
  if (opts.quiet === true) ctx.out.write([...new Set(images.map((i) => i.Id.replace(/^sha256:/, '').slice(0, 12)))].map((id) => `${id}\n`).join(''));
  else if (opts.format === 'json') ctx.out.write(formatJsonLines(images.flatMap((i) => imageJson(i))));
  else ctx.out.write(formatTable(IMAGE_HEADER, images.flatMap((i) => imageRows(i))));
  return 0;
}

export async function imageRm(ctx: Context, names: string[], opts: { force?: boolean }): Promise<number> {
  const client = await ctx.client();
  let failed = false;
  for (const name of names) {
    try {
      const items = await client.json<{ Untagged?: string; Deleted?: string }[]>('DELETE', `/images/${enc(name)}`, { query: { force: opts.force } });
      for (const item of items ?? []) {
        if (item.Untagged !== undefined) ctx.out.write(`Untagged: ${item.Untagged}\n`);
        if (item.Deleted !== undefined) ctx.out.write(`Deleted: ${item.Deleted}\n`);
      }
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
      failed = true;
      ctx.err.write(`${error.render()}\n`);
    }
  }
  return failed ? EXIT_BERTH_FAILED : 0;
}

export async function imageTag(ctx: Context, source: string, target: string): Promise<number> {
  const [repo, tag] = splitReference(target);
  const client = await ctx.client();
  await client.request('POST', `/images/${enc(source)}/tag`, { query: { repo, tag } });
  return 0;
}
