import type { Context } from '../context.js';
import { pumpStream } from '../attach.js';
import { enc } from './common.js';

/** docker's order: inspect (resolves the name, tells whether the stream is framed), then logs. */
export async function logs(ctx: Context, name: string, opts: { follow?: boolean; tail?: string; timestamps?: boolean }): Promise<number> {
  const client = await ctx.client();
  const info = await client.json<{ Id: string; Config?: { Tty?: boolean } | null }>('GET', `/containers/${enc(name)}/json`);
  const stream = await client.stream('GET', `/containers/${enc(info.Id)}/logs`, {
    query: { stdout: true, stderr: true, tail: opts.tail ?? 'all', follow: opts.follow, timestamps: opts.timestamps },
  });
  await pumpStream(stream, ctx.out, ctx.err, info.Config?.Tty === true);
  return 0;
}
