/**
 * A container create request's network fields, resolved once into data:
 * the mode, the networks with their endpoint requests, the ports to
 * publish and the name settings. Pure: it names networks, it does not look
 * them up (the caller connects them through the store, which refuses
 * unknown ones with Docker's 404).
 */
import { InvalidNetworkConfigError } from './errors.js';
import { wantedPorts, type PortBinding, type WantedPort } from './ports.js';
import type { EndpointRequest } from './types.js';

export interface NetworkingRequest {
  Config: {
    Hostname?: string | null;
    Domainname?: string | null;
    ExposedPorts?: Record<string, unknown> | null;
    MacAddress?: string | null;
  };
  HostConfig: {
    NetworkMode?: string | null;
    PortBindings?: Record<string, PortBinding[] | null> | null;
    PublishAllPorts?: boolean | null;
    Dns?: string[] | null;
    DnsSearch?: string[] | null;
    DnsOptions?: string[] | null;
    ExtraHosts?: string[] | null;
    Links?: string[] | null;
  };
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointRequest | null> | null } | null;
}

export interface ResolvedNetworking {
  /**
   * 'none': loopback only; 'host': the host's namespace; 'container': the
   * namespace of `container`; 'bridge': the container's own namespace on
   * `networks` through netavark.
   */
  mode: 'none' | 'host' | 'container' | 'bridge';
  /** For 'container': the id or name after `container:`. */
  container?: string;
  /** For 'bridge': the network to connect first (the NetworkMode's; `default` is `bridge`), then any other. */
  networks: Array<{ name: string; endpoint: EndpointRequest }>;
  ports: WantedPort[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
  links: string[];
  /** Docker's warnings (e.g. ports discarded with host networking). */
  warnings: string[];
}

export function resolveNetworking(req: NetworkingRequest): ResolvedNetworking {
  const host = req.HostConfig;
  const modeText = host.NetworkMode ?? '';
  const endpoints = Object.entries(req.NetworkingConfig?.EndpointsConfig ?? {});
  const ports = wantedPorts(host.PortBindings, host.PublishAllPorts === true, req.Config.ExposedPorts);
  const base = {
    dns: [...(host.Dns ?? [])], dnsSearch: [...(host.DnsSearch ?? [])], dnsOptions: [...(host.DnsOptions ?? [])],
    extraHosts: [...(host.ExtraHosts ?? [])], links: [...(host.Links ?? [])], warnings: [] as string[],
  };
  // Several EndpointsConfig at create are fine since API 1.44 (berth speaks 1.47); only with a
  // shared namespace (host, none, container:) are others refused, below.
  if (modeText.startsWith('container:')) {
    const container = modeText.slice('container:'.length);
    if (container === '') throw new InvalidNetworkConfigError('Invalid network mode: invalid container format container:<name|id>');
    const conflict = (what: string): never => { throw new InvalidNetworkConfigError(`conflicting options: ${what} and the network mode`); };
    if ((req.Config.Hostname ?? '') !== '') conflict('hostname');
    if (base.dns.length > 0 || base.dnsSearch.length > 0 || base.dnsOptions.length > 0) conflict('dns');
    if (base.extraHosts.length > 0) conflict('custom host-to-IP mapping');
    if ((req.Config.MacAddress ?? '') !== '') conflict('mac-address');
    if (ports.length > 0) {
      throw new InvalidNetworkConfigError('conflicting options: port publishing and the container type network mode');
    }
    if (base.links.length > 0) throw new InvalidNetworkConfigError('conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
    return { mode: 'container', container, networks: [], ports: [], ...base };
  }
  if (modeText === 'host' || modeText === 'none') {
    // dockerd 20.10 refuses links with the host's network and ignores them with none (docker-compose's
    // one-off containers send them): checked against a real dockerd.
    if (base.links.length > 0 && modeText === 'host') {
      throw new InvalidNetworkConfigError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    }
    if ((req.Config.MacAddress ?? '') !== '') throw new InvalidNetworkConfigError(`conflicting options: mac-address and the network mode`);
    const other = endpoints.find(([n]) => n !== modeText);
    if (other) throw new InvalidNetworkConfigError('container cannot be disconnected from host network or connected to host network');
    const warnings = ports.length > 0 && modeText === 'host' ? ['Published ports are discarded when using host network mode'] : [];
    return { mode: modeText, networks: [], ports: [], ...base, warnings };
  }
  const primary = modeText === '' || modeText === 'default' ? 'bridge' : modeText;
  const given = endpoints.find(([n]) => n === primary || (primary === 'bridge' && n === 'default'));
  const endpoint: EndpointRequest = { ...(given?.[1] ?? {}) };
  const mac = req.Config.MacAddress ?? '';
  if (mac !== '' && (endpoint.MacAddress ?? '') === '') endpoint.MacAddress = mac;
  if (primary === 'bridge' && (endpoint.Aliases ?? []).length > 0) {
    throw new InvalidNetworkConfigError('network-scoped alias is supported only for containers in user defined networks');
  }
  if (base.links.length > 0) endpoint.Links = [...base.links];
  const networks = [{ name: primary, endpoint }];
  for (const [name, ep] of endpoints) if (ep !== given?.[1] && name !== primary) networks.push({ name, endpoint: { ...(ep ?? {}) } });
  return { mode: 'bridge', networks, ports, ...base };
}
