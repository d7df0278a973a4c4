/**
 * The container model: what a create request becomes, once, at create.
 *
 * A Docker create body (`POST /containers/create`, or `berth run` flags the
 * CLI turned into one) is checked by `parseCreateBody`, then resolved by
 * `resolveContainer` into a `ContainerSpec`: the image's config merged in,
 * every HostConfig field defaulted as Docker stores it, every mount parsed
 * into one `MountSpec` (volumes named, anonymous ones to be created). The
 * spec is what gets stored; start, restart, re-adoption, inspect and
 * `--volumes-from` read it and nothing parses the request again.
 */
import type { DeviceMapping } from '../plan/devices.js';
import type { ResolvedSecurity } from '../security/types.js';
import type { MountSpec } from '../spec/types.js';

/** An empty JSON object, as Docker's `map[string]struct{}` values. */
export type Empty = Record<string, never>;

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** Docker's container `Config`, resolved: the image's config merged in, every field present. */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Empty>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  /** The image reference as the client gave it. */
  Image: string;
  Volumes: Record<string, Empty> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  Shell?: string[];
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** Docker's `HostConfig`, resolved: every field Docker shows in inspect, defaulted as Docker stores it. */
export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: LogConfig;
  /** Kept as the client sent it: `default` stays `default`, as in Docker. */
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[] | null> | null;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  ConsoleSize: [number, number];
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[] | null;
  DnsOptions: string[] | null;
  DnsSearch: string[] | null;
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  BlkioWeightDevice: unknown[] | null;
  BlkioDeviceReadBps: unknown[] | null;
  BlkioDeviceWriteBps: unknown[] | null;
  BlkioDeviceReadIOps: unknown[] | null;
  BlkioDeviceWriteIOps: unknown[] | null;
  CpuPeriod: number;
  CpuQuota: number;
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: DeviceMapping[] | null;
  DeviceCgroupRules: string[] | null;
  DeviceRequests: unknown[] | null;
  KernelMemory: number;
  KernelMemoryTCP: number;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number | null;
  OomKillDisable: boolean;
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
  CpuCount: number;
  CpuPercent: number;
  IOMaximumIOps: number;
  IOMaximumBandwidth: number;
  Mounts?: unknown[];
  /** Docker's defaults written out at create (null in the request means "the defaults"). */
  MaskedPaths: string[];
  ReadonlyPaths: string[];
  Init?: boolean | null;
}

/** `NetworkingConfig.EndpointsConfig` entries as the client sent them (the networks work resolves them). */
export interface EndpointSettings {
  Aliases?: string[] | null;
  Links?: string[] | null;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  MacAddress?: string;
  DriverOpts?: Record<string, string> | null;
  [key: string]: unknown;
}

export interface NetworkingConfig {
  EndpointsConfig: Record<string, EndpointSettings>;
}

/**
 * A create request after its shape was checked: what the client asked for,
 * nothing defaulted yet. Only `resolveContainer` reads it.
 */
export interface CreateRequest {
  config: Partial<ContainerConfig> & { Image: string };
  hostConfig: Partial<HostConfig>;
  networkingConfig: NetworkingConfig;
}

/** The image facts a container is resolved against (the layer store's `ImageRecord` has them). */
export interface ImageFacts {
  id: string;
  config: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string | null;
    User?: string | null;
    Volumes?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    StopSignal?: string | null;
    Healthcheck?: HealthConfig | null;
    OnBuild?: string[] | null;
    Shell?: string[] | null;
  };
}

/**
 * One container, resolved and defaulted at create: the record berth stores.
 * `mounts` are in mount order; every volume mount names its volume (an
 * anonymous one gets its generated name when the runtime creates it).
 */
export interface ContainerSpec {
  /** The image's id (`sha256:…`); `config.Image` keeps the reference the client gave. */
  imageId: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  networkingConfig: NetworkingConfig;
  mounts: MountSpec[];
  /** Capabilities, seccomp, no-new-privileges, paths, groups, limits, sysctls: `resolveSecurity` of the HostConfig. */
  security: ResolvedSecurity;
}
