/** `berth stats`, `update`, `pause`, `unpause`: the Engine API's stats, update, pause and unpause endpoints. */
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { parseMemory } from '../format/size.js';
import { STATS_HEADER, statsRow, type StatsJson } from '../format/stats.js';
import { formatTable } from '../format/table.js';
import { enc, forEachName } from './common.js';

export async function pause(ctx: Context, names: string[]): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/pause`);
  });
}

export async function unpause(ctx: Context, names: string[]): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('POST', `/containers/${enc(name)}/unpause`);
  });
}

export interface UpdateFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpus?: string;
  pidsLimit?: string;
  restart?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
}

function bytes(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (value.trim() === '-1') return -1;
  try {
    return parseMemory(value);
  } catch (error) {
    throw new UsageError(`invalid ${flag}: ${(error as Error).message}`);
  }
}

function int(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid ${flag} '${value}': use a whole number`);
  return Number(value);
}

/** The update body the docker CLI sends: every resource (0 keeps the current value), the restart policy when given. */
export function updateBody(flags: UpdateFlags): Record<string, unknown> {
  let nano = 0;
  if (flags.cpus !== undefined) {
    const cpus = Number(flags.cpus);
    if (!Number.isFinite(cpus) || cpus < 0 || flags.cpus.trim() === '') throw new UsageError(`invalid --cpus '${flags.cpus}': use a number such as 1.5`);
    nano = Math.round(cpus * 1e9);
  }
  let restart = { Name: '', MaximumRetryCount: 0 };
  if (flags.restart !== undefined) {
    const [name = '', count] = flags.restart.split(':');
    if (count !== undefined && !/^\d+$/.test(count)) throw new UsageError(`invalid --restart '${flags.restart}': maximum retry count must be a whole number`);
    restart = { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
  }
  return {
    Memory: bytes('--memory', flags.memory), MemorySwap: bytes('--memory-swap', flags.memorySwap),
    MemoryReservation: bytes('--memory-reservation', flags.memoryReservation),
    CpuShares: int('--cpu-shares', flags.cpuShares), CpuPeriod: int('--cpu-period', flags.cpuPeriod),
    CpuQuota: int('--cpu-quota', flags.cpuQuota), NanoCpus: nano,
    PidsLimit: flags.pidsLimit === undefined ? null : int('--pids-limit', flags.pidsLimit),
    CpusetCpus: flags.cpusetCpus ?? '', CpusetMems: flags.cpusetMems ?? '',
    RestartPolicy: restart,
  };
}

export async function update(ctx: Context, names: string[], flags: UpdateFlags): Promise<number> {
  const body = updateBody(flags);
  if (Object.entries(body).every(([k, v]) => (k === 'RestartPolicy' ? (v as { Name: string }).Name === '' : v === 0 || v === null || v === ''))) {
    throw new UsageError('you must provide one or more flags when using this command');
  }
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    const res = await client.json<{ Warnings: string[] | null }>('POST', `/containers/${enc(name)}/update`, { body });
    for (const w of res.Warnings ?? []) ctx.err.write(`${w}\n`);
  });
}

/** `berth stats [CONTAINER...]`: running containers (all with -a) or the named ones, once with --no-stream, else every second. */
export async function stats(ctx: Context, names: string[], opts: { all?: boolean; stream?: boolean }): Promise<number> {
  const client = await ctx.client();
  const once = opts.stream === false;
  const pick = async (): Promise<string[]> =>
    names.length > 0 ? names : (await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: opts.all } })).map((c) => c.Id);
  for (;;) {
    const ids = await pick();
    // stream=false: the daemon answers with two readings a second apart, so CPU % is meaningful.
    const all = await Promise.all(ids.map((id) => client.json<StatsJson>('GET', `/containers/${enc(id)}/stats`, { query: { stream: '0' } })));
    const table = formatTable(STATS_HEADER, all.map((s) => statsRow(s)));
    ctx.out.write(once ? table : `\x1b[2J\x1b[H${table}`);
    if (once) return 0;
  }
}
