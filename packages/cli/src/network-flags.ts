/**
 * The docker CLI's network flags of `run`/`create` as Docker API fields:
 * `-p`, `-P`, `--network`, `--network-alias`, `--ip`, `--mac-address`,
 * `--dns*`, `--add-host`, `--link`. The daemon resolves and checks them
 * (`resolveNetworking` in @berth/networks); this only parses the syntax.
 */
import { UsageError } from './errors.js';

export interface NetworkFlags {
  network?: string;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  networkAlias: string[];
  ip?: string;
  macAddress?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  link: string[];
}

export interface NetworkFields {
  config: { ExposedPorts: Record<string, Record<string, never>> | null; MacAddress?: string };
  hostConfig: Record<string, unknown>;
  networkingConfig: { EndpointsConfig: Record<string, Record<string, unknown>> };
}

/** docker's `-p [ip:][hostPort:]containerPort[/proto]` (ranges refused: berth publishes one port per entry). */
export function parsePublish(spec: string): { key: string; binding: { HostIp: string; HostPort: string } } {
  const [main = '', proto = 'tcp'] = spec.split('/');
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
  const parts = main.split(':');
  let hostIp = '';
  let hostPort = '';
  let containerPort: string;
  if (parts.length === 1) containerPort = parts[0]!;
  else if (parts.length === 2) [hostPort, containerPort] = parts as [string, string];
  else if (parts.length === 3) [hostIp, hostPort, containerPort] = parts as [string, string, string];
  else throw new UsageError(`invalid -p '${spec}': use [ip:][hostPort:]containerPort[/tcp|udp]`);
  if (!/^\d+$/.test(containerPort) || (hostPort !== '' && !/^\d+$/.test(hostPort))) {
    throw new UsageError(`invalid -p '${spec}': ports are numbers (berth publishes no ranges)`);
  }
  return { key: `${containerPort}/${proto}`, binding: { HostIp: hostIp, HostPort: hostPort } };
}

export function networkFields(flags: NetworkFlags): NetworkFields {
  const network = flags.network ?? 'default';
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  const exposed: Record<string, Record<string, never>> = {};
  for (const spec of flags.publish) {
    const { key, binding } = parsePublish(spec);
    (portBindings[key] ??= []).push(binding);
    exposed[key] = {};
  }
  for (const spec of flags.expose) {
    const key = spec.includes('/') ? spec : `${spec}/tcp`;
    if (!/^\d+\/(tcp|udp|sctp)$/.test(key)) throw new UsageError(`invalid --expose '${spec}'`);
    exposed[key] = {};
  }
  const endpoint: Record<string, unknown> = {};
  if (flags.networkAlias.length > 0) endpoint['Aliases'] = [...flags.networkAlias];
  if (flags.ip !== undefined) endpoint['IPAMConfig'] = { IPv4Address: flags.ip };
  if (flags.macAddress !== undefined) endpoint['MacAddress'] = flags.macAddress;
  return {
    config: { ExposedPorts: Object.keys(exposed).length > 0 ? exposed : null, ...(flags.macAddress ? { MacAddress: flags.macAddress } : {}) },
    hostConfig: {
      NetworkMode: network,
      PortBindings: portBindings,
      PublishAllPorts: flags.publishAll === true,
      Dns: flags.dns,
      DnsSearch: flags.dnsSearch,
      DnsOptions: flags.dnsOption,
      ExtraHosts: flags.addHost.length > 0 ? flags.addHost : null,
      Links: flags.link.length > 0 ? flags.link : null,
    },
    networkingConfig: { EndpointsConfig: { [network]: endpoint } },
  };
}
