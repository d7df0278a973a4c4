/**
 * export/import/clone go through berth's API extensions (not in the Docker API):
 *   GET  /berth/volumes/{name}/export         → 200 application/x-tar (the volume's contents)
 *   POST /berth/volumes/{name}/import         ← application/x-tar body → 2xx
 *   POST /berth/volumes/{name}/clone?to=DST   → 201 Volume (DST)
 */
import type { Context } from '../context.js';
import { openArchive, writeArchive } from '../archive-io.js';
import { withProgress } from '../progress.js';
import { enc } from './common.js';

export async function volumeExport(ctx: Context, name: string, opts: { output?: string }): Promise<number> {
  const client = await ctx.client();
  const res = await client.stream('GET', `/berth/volumes/${enc(name)}/export`);
  await writeArchive(ctx, res, opts.output);
  return 0;
}

export async function volumeImport(ctx: Context, name: string, file: string): Promise<number> {
  const source = openArchive(ctx, file);
  const client = await ctx.client();
  const counted = await withProgress(source.stream, source.size, ctx.err, `Importing into ${name}`);
  try {
    await client.request('POST', `/berth/volumes/${enc(name)}/import`, {
      headers: { 'Content-Type': 'application/x-tar' },
      stream: counted.stream,
    });
  } finally {
    counted.stop();
  }
  ctx.out.write(`${name}\n`);
  return 0;
}

export async function volumeClone(ctx: Context, source: string, target: string): Promise<number> {
  const client = await ctx.client();
  const volume = await client.json<{ Name?: string }>('POST', `/berth/volumes/${enc(source)}/clone`, { query: { to: target } });
  ctx.out.write(`${volume?.Name ?? target}\n`);
  return 0;
}
