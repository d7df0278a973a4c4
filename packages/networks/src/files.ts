/**
 * The files Docker writes for a container's names, as pure functions:
 * `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname`. The caller writes them
 * in the container's directory and binds them in, as Docker does.
 */
import { InvalidNetworkConfigError } from './errors.js';

const HOSTS_HEADER = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export interface HostsInput {
  /** The container's hostname (and domain name, when given: `host.domain host`). */
  hostname: string;
  domainname?: string;
  /** The container's addresses, one per network, in connect order. */
  addresses: readonly string[];
  /** `--add-host name:ip` entries, `host-gateway` already replaced. */
  extraHosts: ReadonlyArray<{ name: string; ip: string }>;
  /** `--link` entries: the linked container's address and its names (alias, name, short id). */
  links?: ReadonlyArray<{ ip: string; names: readonly string[] }>;
}

/** dockerd 20.10's `/etc/hosts`: the fixed header, extra hosts, links, then one line per address. */
export function hostsFile(h: HostsInput): string {
  const lines = [...HOSTS_HEADER];
  for (const e of h.extraHosts) lines.push(`${e.ip}\t${e.name}`);
  for (const l of h.links ?? []) lines.push(`${l.ip}\t${l.names.join(' ')}`);
  const names = h.domainname ? `${h.hostname}.${h.domainname} ${h.hostname}` : h.hostname;
  for (const ip of h.addresses) lines.push(`${ip}\t${names}`);
  return lines.join('\n') + '\n';
}

/**
 * `--add-host` values as Docker takes them: `name:ip` or `name=ip`, `ip` may
 * be `host-gateway` (the default bridge's gateway, as dockerd resolves it).
 */
export function parseExtraHosts(entries: readonly string[] | null | undefined, hostGateway: string): Array<{ name: string; ip: string }> {
  return (entries ?? []).map((entry) => {
    const sep = entry.search(/[:=]/);
    if (sep <= 0) throw new InvalidNetworkConfigError(`invalid argument "${entry}" for "--add-host" flag: bad format for add-host: "${entry}"`);
    const name = entry.slice(0, sep);
    const ip = entry.slice(sep + 1);
    if (ip === '') throw new InvalidNetworkConfigError(`invalid argument "${entry}" for "--add-host" flag: bad format for add-host: "${entry}"`);
    return { name, ip: ip === 'host-gateway' ? hostGateway : ip };
  });
}

export interface ResolvConfInput {
  /** The host's `/etc/resolv.conf`. */
  host: string;
  /** aardvark-dns's addresses (the gateways of the container's DNS networks); empty on `bridge`. */
  networkDns: readonly string[];
  dns?: readonly string[] | null;
  dnsSearch?: readonly string[] | null;
  dnsOptions?: readonly string[] | null;
}

/**
 * Docker's rules: the host's file (nameserver, search, options) unless the
 * container names its own; on a network with DNS the nameserver is the
 * network's resolver instead (aardvark-dns on the gateway, which forwards
 * other names to the host's servers). Loopback nameservers of the host are
 * unreachable from a container and are dropped; none left gives Google's,
 * as Docker does.
 */
export function resolvConf(r: ResolvConfInput): string {
  const lines = r.host.split('\n').map((l) => l.trim());
  const field = (key: string): string[] => lines.filter((l) => l.startsWith(`${key} `) || l.startsWith(`${key}\t`))
    .map((l) => l.slice(key.length).trim());
  const hostServers = field('nameserver').filter((s) => !/^127\./.test(s) && s !== '::1');
  const hostSearch = field('search').flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
  const hostOptions = field('options').flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
  let servers: string[];
  // aardvark-dns first (it answers the network's names); the user's own after it.
  if (r.networkDns.length > 0) servers = [...r.networkDns, ...(r.dns ?? [])];
  else if (r.dns && r.dns.length > 0) servers = [...r.dns];
  else servers = hostServers.length > 0 ? hostServers : ['8.8.8.8', '8.8.4.4'];
  const search = r.dnsSearch && r.dnsSearch.length > 0 ? r.dnsSearch.filter((s) => s !== '.') : hostSearch;
  const options = r.dnsOptions && r.dnsOptions.length > 0 ? [...r.dnsOptions] : hostOptions;
  const out: string[] = [];
  if (search.length > 0) out.push(`search ${search.join(' ')}`);
  for (const s of servers) out.push(`nameserver ${s}`);
  if (options.length > 0) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}
