/** `berth network …`: Docker's network commands over the API. */
import type { Context } from '../context.js';
import { encodeFilters } from '../client.js';
import { UsageError } from '../errors.js';
import { formatTable } from '../format/table.js';
import { confirm } from '../prompt.js';
import { enc, forEachName, keyValues } from './common.js';

export interface NetworkCreateFlags {
  driver?: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  internal?: boolean;
  attachable?: boolean;
  label: string[];
  opt: string[];
}

export async function networkCreate(ctx: Context, name: string, o: NetworkCreateFlags): Promise<number> {
  if (o.gateway.length > o.subnet.length || o.ipRange.length > o.subnet.length) {
    throw new UsageError('every --gateway and --ip-range needs a --subnet');
  }
  const config = o.subnet.map((subnet, i) => ({
    Subnet: subnet, ...(o.ipRange[i] ? { IPRange: o.ipRange[i] } : {}), ...(o.gateway[i] ? { Gateway: o.gateway[i] } : {}),
  }));
  const body = {
    Name: name, CheckDuplicate: true, Driver: o.driver ?? 'bridge', Internal: o.internal === true, Attachable: o.attachable === true,
    IPAM: { Driver: 'default', Config: config, Options: {} }, Options: keyValues('--opt', o.opt), Labels: keyValues('--label', o.label),
  };
  const client = await ctx.client();
  const res = await client.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { body });
  if (res.Warning) ctx.err.write(`WARNING: ${res.Warning}\n`);
  ctx.out.write(`${res.Id}\n`);
  return 0;
}

interface NetworkSummary { Id: string; Name: string; Driver: string; Scope: string }

export async function networkLs(ctx: Context, o: { quiet?: boolean; filter: string[]; noTrunc?: boolean }): Promise<number> {
  const client = await ctx.client();
  const list = await client.json<NetworkSummary[]>('GET', '/networks', { query: { filters: encodeFilters(o.filter) } });
  const sorted = [...list].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  const id = (n: NetworkSummary): string => (o.noTrunc === true ? n.Id : n.Id.slice(0, 12));
  if (o.quiet === true) ctx.out.write(sorted.map((n) => `${id(n)}\n`).join(''));
  else ctx.out.write(formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], sorted.map((n) => [id(n), n.Name, n.Driver, n.Scope])));
  return 0;
}

export async function networkRm(ctx: Context, names: string[]): Promise<number> {
  const client = await ctx.client();
  return forEachName(ctx, names, async (name) => {
    await client.request('DELETE', `/networks/${enc(name)}`);
  });
}

export async function networkConnect(ctx: Context, network: string, container: string, o: { alias: string[]; ip?: string; link: string[] }): Promise<number> {
  const endpoint: Record<string, unknown> = {};
  if (o.alias.length > 0) endpoint['Aliases'] = o.alias;
  if (o.link.length > 0) endpoint['Links'] = o.link;
  if (o.ip !== undefined) endpoint['IPAMConfig'] = { IPv4Address: o.ip };
  const client = await ctx.client();
  await client.request('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  return 0;
}

export async function networkDisconnect(ctx: Context, network: string, container: string, o: { force?: boolean }): Promise<number> {
  const client = await ctx.client();
  await client.request('POST', `/networks/${enc(network)}/disconnect`, { body: { Container: container, Force: o.force === true } });
  return 0;
}

export async function networkPrune(ctx: Context, o: { force?: boolean; filter: string[] }): Promise<number> {
  if (o.force !== true && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.'))) return 0;
  const client = await ctx.client();
  const report = await client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: encodeFilters(o.filter) } });
  const deleted = report.NetworksDeleted ?? [];
  if (deleted.length > 0) ctx.out.write(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}`);
  return 0;
}

/** `berth port CONTAINER [PORT[/PROTO]]`: docker's format, `80/tcp -> 127.0.0.1:8080`. */
export async function port(ctx: Context, container: string, which: string | undefined): Promise<number> {
  const client = await ctx.client();
  const info = await client.json<{ NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> } }>('GET', `/containers/${enc(container)}/json`);
  const ports = info.NetworkSettings?.Ports ?? {};
  const key = which === undefined ? undefined : which.includes('/') ? which : `${which}/tcp`;
  const lines: string[] = [];
  for (const [p, bindings] of Object.entries(ports)) {
    if (key !== undefined && p !== key) continue;
    for (const b of bindings ?? []) {
      const host = b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp;
      lines.push(key !== undefined ? `${host}:${b.HostPort}` : `${p} -> ${host}:${b.HostPort}`);
    }
  }
  if (key !== undefined && lines.length === 0) {
    ctx.err.write(`Error: No public port '${key}' published for ${container}\n`);
    return 1;
  }
  ctx.out.write(lines.map((l) => `${l}\n`).join(''));
  return 0;
}
