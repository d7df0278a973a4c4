import type { ContainerConfig, HostConfig, ImageConfigView } from './engine.js';
import { InvalidParameterError } from './errors.js';

/**
 * Validation of `POST /containers/create` bodies: wrong types get a 400 that
 * names the field; unknown fields are ignored (the docker CLI sends ~60
 * HostConfig keys, most at zero values); `null` means "the defaults".
 */
type Check = 'string' | 'strings' | 'strslice' | 'boolean' | 'number' | 'object' | 'stringMap' | 'array';

const CONFIG_FIELDS: Record<string, Check> = {
  Image: 'string', Cmd: 'strslice', Entrypoint: 'strslice', Env: 'strings', WorkingDir: 'string', User: 'string',
  Hostname: 'string', Domainname: 'string', Volumes: 'object', Labels: 'stringMap', Tty: 'boolean',
  OpenStdin: 'boolean', AttachStdin: 'boolean', AttachStdout: 'boolean', AttachStderr: 'boolean',
  StdinOnce: 'boolean', StopSignal: 'string', StopTimeout: 'number',
};

const HOST_CONFIG_FIELDS: Record<string, Check> = {
  Binds: 'strings', Mounts: 'array', Tmpfs: 'stringMap', VolumesFrom: 'strings', ReadonlyRootfs: 'boolean',
  NetworkMode: 'string', Memory: 'number', MemorySwap: 'number', PidsLimit: 'number', NanoCpus: 'number',
  CpuQuota: 'number', CpuPeriod: 'number', CpuShares: 'number', Init: 'boolean', AutoRemove: 'boolean',
  MaskedPaths: 'strings', ReadonlyPaths: 'strings', Privileged: 'boolean',
};

function typeOk(value: unknown, check: Check): boolean {
  switch (check) {
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'strings': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'strslice': return typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    case 'array': return Array.isArray(value);
    case 'object': return typeof value === 'object' && !Array.isArray(value);
    case 'stringMap':
      return typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every((v) => typeof v === 'string');
  }
}

const DESCRIBE: Record<Check, string> = {
  string: 'a string', boolean: 'a boolean', number: 'a number', strings: 'an array of strings',
  strslice: 'a string or an array of strings', array: 'an array', object: 'an object', stringMap: 'an object of strings',
};

function checkFields(obj: Record<string, unknown>, fields: Record<string, Check>, prefix: string): void {
  for (const [key, check] of Object.entries(fields)) {
    const value = obj[key];
    if (value === undefined || value === null) continue;
    if (!typeOk(value, check)) {
      throw new InvalidParameterError(`invalid JSON in request body: ${prefix}${key} must be ${DESCRIBE[check]}, got ${JSON.stringify(value)}`);
    }
  }
}

export interface CreateRequest {
  image: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** `NetworkingConfig` as sent (resolved by @berth/networks' `resolveNetworking`). */
  networkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
}

/** The body of `POST /containers/create`: Config fields at the top level, plus HostConfig. */
export function parseCreateBody(body: unknown): CreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError('invalid JSON in request body: expected an object with the container config');
  }
  const obj = body as Record<string, unknown>;
  checkFields(obj, CONFIG_FIELDS, '');
  const rawHost = obj['HostConfig'];
  if (rawHost !== undefined && rawHost !== null && (typeof rawHost !== 'object' || Array.isArray(rawHost))) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig must be an object');
  }
  const hostConfig = { ...((rawHost ?? {}) as Record<string, unknown>) } as HostConfig;
  checkFields(hostConfig, HOST_CONFIG_FIELDS, 'HostConfig.');
  const image = obj['Image'];
  if (typeof image !== 'string' || image === '') {
    throw new InvalidParameterError('failed to create container: no image given (Config.Image is empty)');
  }
  const config: ContainerConfig = {};
  for (const key of Object.keys(obj)) {
    if (key === 'HostConfig' || key === 'NetworkingConfig') continue;
    config[key] = obj[key];
  }
  for (const key of ['Cmd', 'Entrypoint'] as const) {
    const v = config[key] as unknown;
    if (typeof v === 'string') config[key] = [v];
  }
  // NetworkMode (a network's name, `container:<id>`...) is resolved with the networks, which refuse unknown ones.
  const networking = obj['NetworkingConfig'];
  if (networking !== undefined && networking !== null && (typeof networking !== 'object' || Array.isArray(networking))) {
    throw new InvalidParameterError('invalid JSON in request body: NetworkingConfig must be an object');
  }
  return { image, config, hostConfig, ...(networking ? { networkingConfig: networking as NonNullable<CreateRequest['networkingConfig']> } : {}) };
}

function envKey(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

/**
 * The container's effective Config, as Docker stores it: the image's
 * defaults under the request's values. A request Entrypoint resets the
 * image's Cmd (Docker's rule).
 */
export function mergeImageConfig(req: ContainerConfig, image: ImageConfigView, imageRef: string): ContainerConfig {
  const merged: ContainerConfig = { ...req, Image: imageRef };
  const entrypointGiven = Array.isArray(req.Entrypoint);
  merged.Entrypoint = entrypointGiven ? req.Entrypoint! : (image.Entrypoint ?? null);
  if (merged.Entrypoint && merged.Entrypoint.length === 1 && merged.Entrypoint[0] === '') merged.Entrypoint = null;
  merged.Cmd = Array.isArray(req.Cmd) && req.Cmd.length > 0 ? req.Cmd : (entrypointGiven ? null : (image.Cmd ?? null));
  const env = new Map<string, string>();
  for (const e of image.Env ?? []) env.set(envKey(e), e);
  for (const e of req.Env ?? []) env.set(envKey(e), e);
  merged.Env = [...env.values()];
  merged.WorkingDir = req.WorkingDir || image.WorkingDir || '';
  merged.User = req.User || image.User || '';
  merged.Volumes = { ...(image.Volumes ?? {}), ...(req.Volumes ?? {}) };
  merged.Labels = { ...(image.Labels ?? {}), ...(req.Labels ?? {}) };
  if ((merged.Entrypoint?.length ?? 0) === 0 && (merged.Cmd?.length ?? 0) === 0) {
    throw new InvalidParameterError('failed to create container: no command specified; give one after the image name or use an image with a CMD');
  }
  return merged;
}

/** Docker's Path and Args for inspect and `ps`. */
export function pathAndArgs(config: ContainerConfig): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  return { path: argv[0] ?? '', args: argv.slice(1) };
}
