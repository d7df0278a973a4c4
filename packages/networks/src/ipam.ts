/**
 * IPv4 address management as pure functions: CIDR parsing, Docker's default
 * address pools, and the next free address of a subnet. netavark does no
 * IPAM; the store records what these functions choose.
 */
import { InvalidNetworkConfigError } from './errors.js';

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

/** Dotted quad → unsigned number, or undefined when not an IPv4 address. */
export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `a.b.c.d/n`, as Docker's ParseCIDR: the host bits are dropped. Throws Docker's text. */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) {
    if (m && m[1]!.includes(':')) throw new InvalidNetworkConfigError(`IPv6 ${what} ${text} is not supported by berth: its networks are IPv4 only`);
    throw new InvalidNetworkConfigError(`Invalid ${what} ${text} : invalid CIDR address: ${text}`);
  }
  return { base: (ip & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

/**
 * Docker's default local address pools (libnetwork ipamutils): the /16s from
 * 172.17 to 172.31, then 192.168.0.0/16 in /20 slices.
 */
export function defaultPools(): Cidr[] {
  const pools: Cidr[] = [];
  for (let b = 17; b <= 31; b++) pools.push({ base: ((172 << 24) >>> 0) + (b << 16), prefix: 16 });
  for (let s = 0; s < 16; s++) pools.push({ base: ((192 << 24) >>> 0) + (168 << 16) + (s << 12), prefix: 20 });
  return pools;
}

/** The first default pool that overlaps neither a network's subnet nor a host route. */
export function choosePool(taken: readonly Cidr[]): Cidr | undefined {
  return defaultPools().find((p) => !taken.some((t) => overlaps(p, t)));
}

/**
 * The IPv4 routes of the host's main table (`/proc/net/route`), the
 * default route left out: Docker will not pick a pool that overlaps one.
 */
export function hostRoutes(procNetRoute: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Number.parseInt(f[1]!, 16);
    const m = Number.parseInt(f[7]!, 16);
    if (!Number.isFinite(dest) || !Number.isFinite(m) || m === 0) continue;
    // The file's words are little-endian.
    const swap = (n: number): number => (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
    const maskBits = swap(m);
    const prefix = 32 - Math.log2((~maskBits >>> 0) + 1);
    if (!Number.isInteger(prefix)) continue;
    out.push({ base: (swap(dest) & maskBits) >>> 0, prefix });
  }
  return out;
}

/** One IPAM config of a network, resolved: subnet, gateway, the range addresses come from. */
export interface ResolvedPool {
  subnet: Cidr;
  gateway: number;
  range: Cidr;
  /** AuxiliaryAddresses: reserved, never handed out. */
  reserved: number[];
}

/**
 * The next free address for a container: from the pool's range, never the
 * network or broadcast address, the gateway, a reserved one, or one in use.
 * Lowest first.
 */
export function nextFreeAddress(pool: ResolvedPool, used: ReadonlySet<number>): number | undefined {
  const first = pool.range.base;
  const last = pool.range.base + size(pool.range) - 1;
  const broadcast = pool.subnet.base + size(pool.subnet) - 1;
  for (let ip = first; ip <= last; ip++) {
    if (pool.subnet.prefix < 31 && (ip === pool.subnet.base || ip === broadcast)) continue;
    if (ip === pool.gateway || used.has(ip) || pool.reserved.includes(ip)) continue;
    return ip;
  }
  return undefined;
}

/** Docker's MAC for an IPv4 endpoint: 02:42 and the four address bytes. */
export function macForAddress(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
