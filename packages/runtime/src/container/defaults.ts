// Docker's defaults for a stored container (what `docker inspect` shows for
// a container created with an empty HostConfig on dockerd 20.10, checked
// field by field; ShmSize and LogConfig are daemon defaults moby writes in
// at create).
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../plan/defaults.js';
import type { ContainerConfig, HostConfig } from './types.js';

/** `--shm-size` default: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export function defaultHostConfig(): HostConfig {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'default',
    PortBindings: null,
    RestartPolicy: { Name: '', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    // cgroup v1 has no cgroup namespaces for containers; Docker says "host" there.
    CgroupnsMode: 'host',
    Dns: null,
    DnsOptions: null,
    DnsSearch: null,
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: DEFAULT_SHM_SIZE,
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    KernelMemory: 0,
    KernelMemoryTCP: 0,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: [...DEFAULT_MASKED_PATHS],
    ReadonlyPaths: [...DEFAULT_READONLY_PATHS],
  };
}

/** The Config fields Docker always shows, at their zero values (the hostname is filled by the resolver). */
export function defaultConfig(image: string): ContainerConfig {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [],
    Cmd: null,
    Image: image,
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
  };
}
