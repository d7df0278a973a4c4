/**
 * @berth/networks: Docker's networks on netavark 1.4 and aardvark-dns.
 *
 * ```ts
 * import { NetworkStore, NetworkAttachments } from '@berth/networks';
 * const store = NetworkStore.open('/var/lib/berth');           // bridge, host, none exist
 * const { id } = store.create({ Name: 'app', CheckDuplicate: true });
 * store.connect(containerId, 'web', 'app', { Aliases: ['web'] });
 * const nets = new NetworkAttachments(store, { configDir: '/run/berth/netavark' });
 * await nets.attach(containerId, 'web', `/proc/${pid}/ns/net`);   // netavark setup
 * await nets.detach(containerId, 'web', `/proc/${pid}/ns/net`);   // netavark teardown
 * ```
 */
export { NetworkStore, SCHEMA_VERSION, type NetworkStoreOptions } from './store.js';
export { NetworkAttachments, FreshNamespace, type Attached } from './attachments.js';
export { Netavark, netavarkConfig, dnsAliases, NETAVARK, AARDVARK_DNS, type EndpointAttachment, type NetavarkOptions, type SetupResult } from './netavark.js';
export { filterNetworks, pruneCandidates, type FilterMap } from './filters.js';
export { networkShape, endpointSettings, networkSettings, type NetworkSettingsInput, type NetworkContainerView } from './shapes.js';
export { wantedPorts, portsShape, type PortBinding, type WantedPort } from './ports.js';
export { hostsFile, resolvConf, parseExtraHosts, type HostsInput, type ResolvConfInput } from './files.js';
export { linkEnvironment, linkVariables, type LinkTarget } from './links.js';
export { resolveNetworking, type NetworkingRequest, type ResolvedNetworking } from './resolve.js';
export {
  parseCidr, formatCidr, parseIPv4, formatIPv4, defaultPools, choosePool, hostRoutes, nextFreeAddress, macForAddress, overlaps,
  type Cidr, type ResolvedPool,
} from './ipam.js';
export type {
  CreateNetworkRequest, EndpointRecord, EndpointRequest, IpamConfigEntry, NetworkDriver, NetworkRecord, PortMapping,
} from './types.js';
export {
  AddressExhaustedError, AmbiguousNetworkError, EndpointExistsError, InvalidNetworkConfigError, NetavarkError, NetworkError,
  NetworkExistsError, NetworkInUseError, NetworkNotFoundError, NetworkNotImplementedError, NotConnectedError, PoolOverlapError,
  PredefinedNetworkError, isNetworkError, type NetworkErrorCode,
} from './errors.js';
export { netavarkIdle, removeIdleNetavarkChains } from './firewall.js';
