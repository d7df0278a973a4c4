/** `berth events`: the daemon's event stream (`GET /events`), printed as the docker CLI prints it. */
import { createInterface } from 'node:readline';
import { encodeFilters } from '../client.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time: number;
  timeNano: number;
}

/** The docker CLI's line: RFC 3339 time with nanoseconds, type, action, actor id, `(k=v, ...)` sorted by key. */
export function eventLine(e: EventMessage, raw?: string): string {
  // timeNano is past 2^53: taken from the text, digit for digit, when there is one.
  const nanos = BigInt(/"timeNano":(\d+)/.exec(raw ?? '')?.[1] ?? Math.round(e.timeNano));
  const seconds = Number(nanos / 1_000_000_000n);
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0');
  const when = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
  const attrs = Object.entries(e.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return `${when} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`;
}

export async function events(ctx: Context, opts: { since?: string; until?: string; filter: string[]; format?: string }): Promise<number> {
  const json = opts.format === 'json' || opts.format === '{{json .}}';
  if (opts.format !== undefined && !json) throw new UsageError(`unsupported --format '${opts.format}': use json`);
  const client = await ctx.client();
  const res = await client.stream('GET', '/events', { query: { since: opts.since, until: opts.until, filters: encodeFilters(opts.filter) } });
  for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    ctx.out.write(json ? `${line}\n` : `${eventLine(JSON.parse(line) as EventMessage, line)}\n`);
  }
  return 0;
}
