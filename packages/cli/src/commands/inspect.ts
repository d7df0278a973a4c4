import type { Context } from '../context.js';
import { formatInspect } from '../format/table.js';
import { EXIT_BERTH_FAILED, UsageError } from '../errors.js';
import { enc, isNotFound } from './common.js';

const KINDS = {
  container: (n: string) => `/containers/${enc(n)}/json`,
  volume: (n: string) => `/volumes/${enc(n)}`,
  image: (n: string) => `/images/${enc(n)}/json`,
  network: (n: string) => `/networks/${enc(n)}`,
} as const;
type Kind = keyof typeof KINDS;

/** Like docker: each name is tried as a container, then a volume, then an image; prints a JSON array. */
export async function inspect(ctx: Context, names: string[], opts: { type?: string }): Promise<number> {
  if (opts.type !== undefined && !(opts.type in KINDS)) {
    throw new UsageError(`unsupported --type '${opts.type}': use container, volume or image`);
  }
  const kinds: Kind[] = opts.type === undefined ? ['container', 'volume', 'image'] : [opts.type as Kind];
  const client = await ctx.client();
  const found: unknown[] = [];
  const missing: string[] = [];
  for (const name of names) {
    let object: unknown;
    for (const kind of kinds) {
      try {
        object = await client.json<unknown>('GET', KINDS[kind](name));
        break;
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    if (object === undefined) missing.push(name);
    else found.push(object);
  }
  ctx.out.write(formatInspect(found));
  for (const name of missing) ctx.err.write(`berth: no such object: ${name} (check the name with \`berth ps -a\`, \`berth volume ls\` or \`berth images\`)\n`);
  return missing.length > 0 ? EXIT_BERTH_FAILED : 0;
}

/** `volume inspect` / `image inspect`: one kind only. */
export function inspectKind(kind: Kind) {
  return (ctx: Context, names: string[]): Promise<number> => inspect(ctx, names, { type: kind });
}
