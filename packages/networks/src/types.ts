/** One entry of a network's `IPAM.Config`, as Docker shows it. */
export interface IpamConfigEntry {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** Docker's driver names: `null` is the driver of the `none` network. */
export type NetworkDriver = 'bridge' | 'host' | 'null';

/** A network as the store keeps it. */
export interface NetworkRecord {
  /** 64 hex characters. */
  id: string;
  name: string;
  driver: NetworkDriver;
  /** RFC 3339 with nanoseconds, as Docker writes it. */
  created: string;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipamOptions: Record<string, string> | null;
  /** Resolved: every entry has its Subnet and Gateway. Empty for host and none. */
  ipamConfig: IpamConfigEntry[];
  /** True when the user gave the subnet (Docker refuses `--ip` otherwise). */
  userSubnet: boolean;
  /** The Linux bridge netavark makes (`br-<id12>`; the default `bridge` network's is `berth0`-like, per root). */
  bridgeName: string;
  /** aardvark-dns answers names on this network (user-defined bridges; not `bridge`, as in Docker). */
  dns: boolean;
  /** `bridge`, `host` and `none`: made by berth, never removed. */
  predefined: boolean;
}

/** A container's place on a network. */
export interface EndpointRecord {
  networkId: string;
  containerId: string;
  /** Without the leading slash. */
  containerName: string;
  endpointId: string;
  /** Requested by the user (`--ip`, `EndpointsConfig[n].IPAMConfig.IPv4Address`), '' when not. */
  requestedIp: string;
  /** The address while the container runs (kept across a supervisor restart), '' otherwise. */
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** Requested MAC (`--mac-address`), '' when not. */
  requestedMac: string;
  /** Aliases the client gave (`--network-alias`, compose's service name), in its order. */
  aliases: string[];
  /** `--link` entries on this network, `name:alias`. */
  links: string[];
  /** netavark's setup has run (or was about to) for it and its teardown has not. */
  active: boolean;
  /** `eth0`, `eth1`... inside the container while active, '' otherwise. */
  interfaceName: string;
}

/** A published port, resolved: the host port is chosen when the client left it empty. */
export interface PortMapping {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** '' means every IPv4 address. */
  hostIp: string;
  hostPort: number;
}

/** `POST /networks/create`'s body, the fields Docker defines. */
export interface CreateNetworkRequest {
  Name: string;
  CheckDuplicate?: boolean;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: Array<Partial<IpamConfigEntry>> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** `EndpointsConfig[name]` of a create or connect request (Docker's `EndpointSettings`), the fields berth reads. */
export interface EndpointRequest {
  Aliases?: string[] | null;
  Links?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] | null } | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
}
