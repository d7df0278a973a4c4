/** Docker's JSON for networks and a container's `NetworkSettings`, from the store's records. Pure. */
import { portsShape } from './ports.js';
import type { EndpointRecord, NetworkRecord, PortMapping } from './types.js';

export interface NetworkContainerView {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

/** `GET /networks/{id}` (with `containers`) and each entry of `GET /networks` (Containers `{}`, as dockerd 20.10 lists). */
export function networkShape(n: NetworkRecord, endpoints: readonly EndpointRecord[] | undefined): Record<string, unknown> {
  const containers: Record<string, NetworkContainerView> = {};
  // Docker lists the endpoints of running containers (a created one has none yet).
  for (const ep of endpoints ?? []) {
    if (ep.ipAddress === '') continue;
    containers[ep.containerId] = {
      Name: ep.containerName, EndpointID: ep.endpointId, MacAddress: ep.macAddress,
      IPv4Address: `${ep.ipAddress}/${ep.prefixLen}`, IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: n.ipamOptions, Config: n.ipamConfig },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** One `NetworkSettings.Networks` entry (Docker's `EndpointSettings`). */
export function endpointSettings(n: NetworkRecord, ep: EndpointRecord | undefined, containerId: string): Record<string, unknown> {
  const requested = ep && ep.requestedIp !== '' ? { IPv4Address: ep.requestedIp } : null;
  // Docker adds the short id to the aliases of a user network's endpoint once it runs.
  const aliases = ep && n.dns ? (ep.ipAddress !== '' ? [...new Set([...ep.aliases, containerId.slice(0, 12)])] : ep.aliases) : null;
  return {
    IPAMConfig: requested,
    Links: ep && ep.links.length > 0 ? ep.links : null,
    Aliases: aliases && aliases.length > 0 ? aliases : null,
    NetworkID: n.id,
    EndpointID: ep?.ipAddress ? ep.endpointId : '',
    Gateway: ep?.gateway ?? '',
    IPAddress: ep?.ipAddress ?? '',
    IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: ep?.macAddress ?? '',
    DriverOpts: null,
  };
}

export interface NetworkSettingsInput {
  containerId: string;
  /** `HostConfig.NetworkMode` as the client sent it ('default', 'bridge', 'host', 'none', 'container:x', a name). */
  networkMode: string;
  networks: ReadonlyArray<{ network: NetworkRecord; endpoint?: EndpointRecord }>;
  /** `Config.ExposedPorts`. */
  exposedPorts: Record<string, unknown> | null | undefined;
  ports: readonly PortMapping[];
  running: boolean;
  /** Where the container's network namespace is, when it has one of its own and runs. */
  sandboxKey?: string;
}

/**
 * `NetworkSettings` of container inspect: the top-level fields are the
 * `bridge` network's endpoint (Docker's legacy fields, empty on other
 * networks), `Networks` has every network, `Ports` only while it runs.
 */
export function networkSettings(s: NetworkSettingsInput): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const { network, endpoint } of s.networks) networks[network.name] = endpointSettings(network, endpoint, s.containerId);
  const legacy = s.networks.find((x) => x.network.name === 'bridge' && x.network.predefined)?.endpoint;
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: s.running ? portsShape(s.exposedPorts, s.ports) : {},
    SandboxKey: s.running ? (s.sandboxKey ?? '') : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: legacy?.ipAddress ? legacy.endpointId : '',
    Gateway: legacy?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: legacy?.ipAddress ?? '',
    IPPrefixLen: legacy?.prefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: legacy?.macAddress ?? '',
    Networks: networks,
  };
}
