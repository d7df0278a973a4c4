import { humanDuration } from '@berth/runtime/spec';
import type { ContainerRecord } from './container-store.js';
import type { MountPoint } from './engine.js';
import { healthSuffix, readHealth } from './health.js';
import { containerPaths } from './stdio.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's Path and Args for inspect and `ps`: the stored Entrypoint, then Cmd. */
export function pathAndArgs(config: ContainerRecord['config']): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  return { path: argv[0] ?? '', args: argv.slice(1) };
}

function statusText(rec: ContainerRecord, restarting: boolean, now = Date.now()): string {
  const ago = (iso: string): string => humanDuration(now - Date.parse(iso));
  if (restarting) return `Restarting (${rec.exitCode}) ${ago(rec.finishedAt)} ago`;
  switch (rec.state) {
    case 'created': return 'Created';
    case 'running': return `Up ${ago(rec.startedAt)}`;
    case 'exited': return `Exited (${rec.exitCode}) ${ago(rec.finishedAt)} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
  }
}

/** Docker's `State.Status`: an exited container the restart policy is about to start again is `restarting`; a frozen one `paused`. */
function stateName(rec: ContainerRecord, restarting: boolean, paused = false): string {
  return restarting ? 'restarting' : paused && rec.state === 'running' ? 'paused' : rec.state;
}

/**
 * `NetworkSettings` in Docker's shape. The networks work fills addresses in;
 * until then a container's only network is its mode's (`default` is shown
 * as Docker's `bridge` entry), with Docker's zero values.
 */
export function networkSettings(rec: ContainerRecord): Record<string, unknown> {
  const mode = rec.hostConfig.NetworkMode;
  const name = mode === 'default' || mode === '' ? 'bridge' : mode;
  const endpoint = rec.networkingConfig.EndpointsConfig[mode] ?? rec.networkingConfig.EndpointsConfig[name] ?? {};
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {},
    SandboxKey: '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '',
    Networks: name.startsWith('container:') ? {} : {
      [name]: {
        IPAMConfig: endpoint.IPAMConfig ?? null, Links: endpoint.Links ?? null, Aliases: endpoint.Aliases ?? null,
        NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: endpoint.DriverOpts ?? null,
      },
    },
  };
}

/**
 * `GET /containers/{id}/json`: the full Docker shape, rendered from the
 * stored record (Config and HostConfig are the resolved ones; nothing of
 * the request is echoed). `restarting`: a restart is scheduled.
 */
export function containerInspect(rec: ContainerRecord, root: string, mounts: MountPoint[], restarting = false, paused = false): Record<string, unknown> {
  const { path, args } = pathAndArgs(rec.config);
  const paths = containerPaths(root, rec.id);
  const running = rec.state === 'running';
  return {
    Id: rec.id,
    Created: rec.created,
    Path: path,
    Args: args,
    State: {
      Status: stateName(rec, restarting, paused),
      Running: running,
      Paused: paused && running,
      Restarting: restarting,
      OOMKilled: rec.oomKilled,
      Dead: rec.state === 'dead',
      Pid: running ? rec.pid : 0,
      ExitCode: rec.exitCode,
      Error: rec.error,
      StartedAt: rec.startedAt || ZERO_TIME,
      FinishedAt: rec.finishedAt || ZERO_TIME,
      ...healthOf(rec, root),
    },
    Image: rec.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: rec.hostConfig.LogConfig.Type === 'json-file' ? paths.log : '',
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: rec.hostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        MergedDir: `${paths.dir}/mnt`,
        UpperDir: `${paths.dir}/diff`,
        WorkDir: `${paths.dir}/work`,
      },
    },
    Mounts: mounts,
    Config: rec.config,
    NetworkSettings: networkSettings(rec),
  };
}

/** `State.Health`, when the container has a healthcheck (kept by the health monitor beside its log). */
function healthOf(rec: ContainerRecord, root: string): { Health?: unknown } {
  const health = readHealth(root, rec.id);
  return health === undefined ? {} : { Health: health };
}

/** One entry of `GET /containers/json`. */
export function containerSummary(rec: ContainerRecord, root: string, mounts: MountPoint[], restarting = false, paused = false): Record<string, unknown> {
  const { path, args } = pathAndArgs(rec.config);
  const network = networkSettings(rec);
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: [path, ...args].join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: [],
    Labels: rec.config.Labels,
    State: stateName(rec, restarting, paused),
    // `Up 2 minutes (healthy)` while a healthcheck runs, `Up 2 minutes (Paused)` when frozen, as dockerd says.
    Status: statusText(rec, restarting) + (rec.state !== 'running' ? '' : paused ? ' (Paused)' : healthSuffix(readHealth(root, rec.id))),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode },
    NetworkSettings: { Networks: network['Networks'] },
    Mounts: mounts,
  };
}
