import type { ContainerRecord } from './container-store.js';
import { pathAndArgs } from './create-request.js';
import { containerPaths } from './stdio.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

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

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
}

/** Docker's `State.Status`: an exited container the restart policy is about to start again is `restarting`. */
function stateName(rec: ContainerRecord, restarting: boolean): string {
  return restarting ? 'restarting' : rec.state;
}

/**
 * `GET /containers/{id}/json`: the full Docker shape (the CLI's `logs`
 * crashes on a null Config). `restarting`: a restart is scheduled.
 */
export function containerInspect(rec: ContainerRecord, root: string, restarting = false): Record<string, unknown> {
  const { path, args } = pathAndArgs(rec.config);
  const paths = containerPaths(root, rec.id);
  const running = rec.state === 'running';
  return {
    Id: rec.id,
    Created: rec.created,
    Path: path,
    Args: args,
    State: {
      Status: stateName(rec, restarting),
      Running: running,
      Paused: false,
      Restarting: restarting,
      OOMKilled: rec.oomKilled,
      Dead: rec.state === 'dead',
      Pid: running ? rec.pid : 0,
      ExitCode: rec.exitCode,
      Error: rec.error,
      StartedAt: rec.startedAt || ZERO_TIME,
      FinishedAt: rec.finishedAt || ZERO_TIME,
    },
    Image: rec.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: paths.log,
    Name: `/${rec.name}`,
    RestartCount: rec.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: { NetworkMode: 'default', ...rec.hostConfig, AutoRemove: rec.autoRemove },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        MergedDir: `${paths.dir}/mnt`,
        UpperDir: `${paths.dir}/diff`,
        WorkDir: `${paths.dir}/work`,
      },
    },
    Mounts: rec.mounts.map((m) => ({
      Type: m.Type,
      ...(m.Name !== undefined ? { Name: m.Name } : {}),
      Source: m.Source,
      Destination: m.Destination,
      Driver: m.Driver ?? (m.Type === 'volume' ? 'local' : ''),
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    })),
    Config: {
      Hostname: rec.config.Hostname || rec.id.slice(0, 12),
      Domainname: '',
      User: rec.config.User ?? '',
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: rec.config.Tty === true,
      OpenStdin: rec.config.OpenStdin === true,
      StdinOnce: false,
      ...rec.config,
      Env: rec.config.Env ?? [],
      Cmd: rec.config.Cmd ?? null,
      Entrypoint: rec.config.Entrypoint ?? null,
      Image: rec.image,
      Volumes: rec.config.Volumes ?? null,
      WorkingDir: rec.config.WorkingDir ?? '',
      Labels: rec.config.Labels ?? {},
    },
    NetworkSettings: { Networks: {}, Ports: {} },
  };
}

/** One entry of `GET /containers/json`. */
export function containerSummary(rec: ContainerRecord, restarting = false): Record<string, unknown> {
  const { path, args } = pathAndArgs(rec.config);
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.image,
    ImageID: rec.imageId,
    Command: [path, ...args].join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: [],
    Labels: rec.config.Labels ?? {},
    State: stateName(rec, restarting),
    Status: statusText(rec, restarting),
    HostConfig: { NetworkMode: rec.hostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: {} },
    Mounts: rec.mounts.map((m) => ({
      Type: m.Type, ...(m.Name !== undefined ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination,
      Driver: m.Driver ?? (m.Type === 'volume' ? 'local' : ''), Mode: m.Mode, RW: m.RW, Propagation: m.Propagation,
    })),
  };
}
