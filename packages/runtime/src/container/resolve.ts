/**
 * A checked create request becomes a ContainerSpec: the one place the
 * image's config is merged in (moby's daemon/commit.go `merge`), HostConfig
 * gets Docker's stored defaults, and the mount fields become `MountSpec`s.
 * Pure: nothing is created or looked at on disk; the runtime's `create`
 * does the effects (volumes, bind sources) on the result.
 */
import { CreateRequestError, PlanError, UnsupportedFieldError } from '../errors.js';
import { checkLaunchable } from '../plan/plan.js';
import { KNOWN_LAST_CAP, withinBoundingSet } from '../security/capabilities.js';
import { resolveSecurity } from '../security/resolve.js';
import { resolveMounts } from '../spec/resolve.js';
import type { MountSpec } from '../spec/types.js';
import { defaultConfig, defaultHostConfig, DEFAULT_SHM_SIZE } from './defaults.js';
import type { ContainerConfig, ContainerSpec, CreateRequest, Empty, HostConfig, ImageFacts } from './types.js';

export interface ResolveContext {
  /** The new container's id (64 hex): its first 12 characters are the default hostname. */
  id: string;
  image: ImageFacts;
  /** The host's hostname: a `--network host` container's default hostname, as Docker. */
  hostHostname?: string;
  /** Online CPUs, to refuse `NanoCpus` beyond them as Docker does. */
  hostCpus?: number;
  /** The kernel's last capability (`readLastCap()`); Docker's known set when absent. */
  lastCap?: number;
  /** The capabilities the daemon can hand on (`readBoundingSet()`); a container never gets more. */
  boundingSet?: ReadonlySet<number>;
  /**
   * The caller attaches containers to networks (the supervisor's network
   * service): ports, DNS, extra hosts, links and MAC addresses are its to
   * resolve. Without one they are refused by name, never ignored.
   */
  networksByCaller?: boolean;
  /** The stored mounts of another container (`--volumes-from`), or undefined when there is no such container. */
  volumesFrom?: (ref: string) => readonly MountSpec[] | undefined;
}

const envKey = (e: string): string => e.split('=', 1)[0] ?? '';

const nonEmpty = <T>(list: readonly T[] | null | undefined): list is readonly T[] => list !== null && list !== undefined && list.length > 0;

function emptyObjects(keys: Iterable<string>): Record<string, Empty> {
  const out: Record<string, Empty> = {};
  for (const k of keys) out[k] = {};
  return out;
}

/** moby's `merge(userConf, imageConf)`: the request wins; the image fills what it leaves unset. */
export function mergeImageConfig(user: CreateRequest['config'], image: ImageFacts['config']): ContainerConfig {
  const config: ContainerConfig = { ...defaultConfig(user.Image) };
  for (const [key, value] of Object.entries(user)) {
    if (value !== undefined && value !== null) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (config.User === '') config.User = image.User ?? '';
  const ports = new Set([...Object.keys(image.ExposedPorts ?? {}), ...Object.keys(user.ExposedPorts ?? {})]);
  if (ports.size > 0) config.ExposedPorts = emptyObjects(ports);
  const userEnv = user.Env ?? [];
  const userKeys = new Set(userEnv.map(envKey));
  config.Env = [...userEnv, ...(image.Env ?? []).filter((e) => !userKeys.has(envKey(e)))];
  config.Labels = { ...(image.Labels ?? {}), ...(user.Labels ?? {}) };
  if (!nonEmpty(user.Entrypoint)) {
    if (!nonEmpty(user.Cmd)) config.Cmd = image.Cmd ? [...image.Cmd] : null;
    if (user.Entrypoint === undefined || user.Entrypoint === null) config.Entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  }
  // `--entrypoint ''`: no entrypoint at all, not the image's.
  if (config.Entrypoint !== null && config.Entrypoint.length === 1 && config.Entrypoint[0] === '') config.Entrypoint = null;
  if (config.Entrypoint !== null && config.Entrypoint.length === 0) config.Entrypoint = null;
  if (image.Healthcheck && !user.Healthcheck) config.Healthcheck = { ...image.Healthcheck };
  if (config.WorkingDir === '') config.WorkingDir = image.WorkingDir ?? '';
  const volumes = new Set([...Object.keys(user.Volumes ?? {}), ...Object.keys(image.Volumes ?? {})]);
  config.Volumes = volumes.size > 0 ? emptyObjects(volumes) : null;
  if ((config.StopSignal ?? '') === '' && image.StopSignal) config.StopSignal = image.StopSignal;
  if (!nonEmpty(user.OnBuild)) config.OnBuild = image.OnBuild ? [...image.OnBuild] : null;
  if (!nonEmpty(user.Shell) && nonEmpty(image.Shell)) config.Shell = [...image.Shell];
  return config;
}

/** The request's HostConfig over Docker's defaults; `null` (and absence) means "the default". */
function resolveHostConfig(user: CreateRequest['hostConfig']): HostConfig {
  const host = defaultHostConfig();
  for (const [key, value] of Object.entries(user)) {
    if (value !== undefined && value !== null) (host as unknown as Record<string, unknown>)[key] = value;
  }
  if (host.LogConfig.Type === '') host.LogConfig = { Type: 'json-file', Config: host.LogConfig.Config ?? {} };
  host.LogConfig = { Type: host.LogConfig.Type, Config: { ...(host.LogConfig.Config ?? {}) } };
  host.RestartPolicy = { Name: host.RestartPolicy.Name ?? '', MaximumRetryCount: host.RestartPolicy.MaximumRetryCount ?? 0 };
  if (host.ShmSize < 0) throw new CreateRequestError('SHM size can not be less than 0');
  if (host.ShmSize === 0) host.ShmSize = DEFAULT_SHM_SIZE;
  // Zero and negative mean unlimited; Docker stores that as null.
  if (host.PidsLimit !== null && host.PidsLimit <= 0) host.PidsLimit = null;
  return host;
}

/**
 * Legacy links (`--link`, and docker-compose's one-off containers): Docker
 * refuses them with the host's network and ignores them with `none` (no
 * network to link on: no hosts entry, no environment); on a bridge they
 * are the networks' work, which berth does not do yet.
 */
function checkLinks(host: HostConfig, networksByCaller: boolean): void {
  if (host.Links === null || host.Links.length === 0) return;
  if (host.NetworkMode === 'host') {
    throw new CreateRequestError("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  }
  if (host.NetworkMode !== 'none' && !networksByCaller) throw new UnsupportedFieldError('HostConfig.Links', host.Links);
}

/** What only a network service can honour: refused by name when there is none. */
function checkNetworkFields(config: ContainerConfig, host: HostConfig): void {
  const set: Array<[string, unknown]> = [
    ['HostConfig.PortBindings', host.PortBindings], ['HostConfig.PublishAllPorts', host.PublishAllPorts], ['HostConfig.Dns', host.Dns],
    ['HostConfig.DnsOptions', host.DnsOptions], ['HostConfig.DnsSearch', host.DnsSearch], ['HostConfig.ExtraHosts', host.ExtraHosts],
    ['MacAddress', config.MacAddress],
  ];
  for (const [field, value] of set) {
    const unset = value === null || value === undefined || value === false || value === '' ||
      (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && Object.keys(value as object).length === 0);
    if (!unset) throw new UnsupportedFieldError(field, value);
  }
}

/**
 * Resolves a checked create request against its image: the stored record of
 * a new container. Throws PlanError / CreateRequestError / MountSpecError
 * with Docker's messages for what Docker refuses at create.
 */
export function resolveContainer(req: CreateRequest, ctx: ResolveContext): ContainerSpec {
  const config = mergeImageConfig(req.config, ctx.image.config);
  if (!nonEmpty(config.Entrypoint) && !nonEmpty(config.Cmd)) throw new PlanError('no-command', 'No command specified');
  const hostConfig = resolveHostConfig(req.hostConfig);
  checkLinks(hostConfig, ctx.networksByCaller === true);
  if (ctx.networksByCaller !== true) checkNetworkFields(config, hostConfig);
  const hostUts = hostConfig.NetworkMode === 'host' || hostConfig.UTSMode === 'host';
  if (hostConfig.UTSMode === 'host' && config.Hostname !== '') {
    throw new CreateRequestError('conflicting options: hostname and the UTS mode');
  }
  if (config.Hostname === '') config.Hostname = hostUts && ctx.hostHostname ? ctx.hostHostname : ctx.id.slice(0, 12);
  const resolved = resolveSecurity(req.hostConfig, { lastCap: ctx.lastCap ?? KNOWN_LAST_CAP });
  const security = { ...resolved, capabilities: withinBoundingSet(resolved.capabilities, ctx.boundingSet) };
  // Inspect shows the paths the container gets (none when privileged or systempaths=unconfined).
  hostConfig.MaskedPaths = [...security.maskedPaths];
  hostConfig.ReadonlyPaths = [...security.readonlyPaths];
  checkLaunchable(config, hostConfig, ctx.hostCpus);
  const mounts = resolveMounts({ Config: req.config, HostConfig: req.hostConfig }, {
    imageVolumes: Object.keys(ctx.image.config.Volumes ?? {}),
    ...(ctx.volumesFrom ? { volumesFrom: ctx.volumesFrom } : {}),
  });
  return { imageId: ctx.image.id, config, hostConfig, networkingConfig: req.networkingConfig, mounts, security };
}
