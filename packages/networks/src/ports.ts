/**
 * Published ports as data: `HostConfig.PortBindings`, `PublishAllPorts` and
 * the exposed ports become the mappings netavark forwards, and back into
 * Docker's `NetworkSettings.Ports` shape.
 */
import { InvalidNetworkConfigError } from './errors.js';
import { parseIPv4 } from './ipam.js';
import type { PortMapping } from './types.js';

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** A port to publish before the host port is chosen (undefined: any free one). */
export interface WantedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number | undefined;
}

function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  const port = m ? Number(m[1]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new InvalidNetworkConfigError(`invalid port specification: "${key}"`);
  if (m[2] === 'sctp') throw new InvalidNetworkConfigError(`sctp port ${key} is not supported by berth (netavark 1.4 forwards tcp and udp)`);
  return { port, protocol: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
}

/**
 * The ports to publish: every binding of `PortBindings`, and with
 * `PublishAllPorts` (`-P`) every exposed port without one on a free host
 * port, as Docker does. Throws Docker-like errors for bad specs.
 */
export function wantedPorts(
  portBindings: Record<string, PortBinding[] | null> | null | undefined,
  publishAll: boolean,
  exposed: Record<string, unknown> | null | undefined,
): WantedPort[] {
  const out: WantedPort[] = [];
  const bound = new Set<string>();
  for (const [key, bindings] of Object.entries(portBindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    bound.add(`${port}/${protocol}`);
    for (const b of bindings ?? [{}]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && hostIp !== '0.0.0.0' && parseIPv4(hostIp) === undefined) {
        throw new InvalidNetworkConfigError(`invalid host IP ${hostIp} for port ${key}: berth publishes on IPv4 addresses`);
      }
      const hp = b.HostPort ?? '';
      let hostPort: number | undefined;
      if (hp !== '') {
        if (hp.includes('-')) throw new InvalidNetworkConfigError(`host port ranges (${hp}) are not supported by berth: give one port`);
        hostPort = Number(hp);
        if (!Number.isInteger(hostPort) || hostPort < 1 || hostPort > 65535) throw new InvalidNetworkConfigError(`invalid port specification: "${hp}"`);
      }
      out.push({ containerPort: port, protocol, hostIp: hostIp === '0.0.0.0' ? '' : hostIp, hostPort });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (bound.has(`${port}/${protocol}`)) continue;
      out.push({ containerPort: port, protocol, hostIp: '', hostPort: undefined });
    }
  }
  return out;
}

/**
 * `NetworkSettings.Ports`: every exposed or published port, `null` when not
 * published. Only IPv4 is forwarded (netavark on an IPv4 network), so an
 * empty host IP shows as `0.0.0.0` alone, where Docker's proxy adds `::`.
 */
export function portsShape(exposed: Record<string, unknown> | null | undefined, published: readonly PortMapping[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of Object.keys(exposed ?? {})) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const p of published) {
    const key = `${p.containerPort}/${p.protocol}`;
    (out[key] ??= []).push({ HostIp: p.hostIp === '' ? '0.0.0.0' : p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}
