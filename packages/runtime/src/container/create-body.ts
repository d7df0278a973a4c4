/**
 * The one validator of a create body (`POST /containers/create`, and what
 * `berth run` sends): every field Docker's API defines is either honoured,
 * checked for its JSON type, or — when berth does not implement it — refused
 * with an error naming it unless it holds its zero value (the docker CLI
 * sends ~60 HostConfig keys, most at zero). Keys the API does not define are
 * ignored, as Docker's JSON decoder ignores them.
 */
import { CreateRequestError, UnsupportedFieldError } from '../errors.js';
import { checkApiFields } from '../spec/api-fields.js';
import type { CreateRequest, NetworkingConfig } from './types.js';

type Kind = 'string' | 'strings' | 'strslice' | 'boolean' | 'integer' | 'object' | 'stringMap' | 'array' | 'pair';

/**
 * How berth treats a field: `honoured`, or `zero`: accepted only at its zero
 * value (or one of `accept`), otherwise refused as not implemented.
 */
interface Field {
  kind: Kind;
  support: 'honoured' | 'zero';
  /** Non-zero values accepted although the field is not otherwise implemented (Docker's own defaults). */
  accept?: readonly unknown[];
}

const honoured = (kind: Kind): Field => ({ kind, support: 'honoured' });
const zeroOnly = (kind: Kind, accept?: readonly unknown[]): Field => ({ kind, support: 'zero', ...(accept ? { accept } : {}) });

/** Every `Config` field of Engine API 1.41 (and the later ones clients send). */
const CONFIG_FIELDS: Record<string, Field> = {
  Hostname: honoured('string'),
  Domainname: zeroOnly('string'),
  User: honoured('string'),
  AttachStdin: honoured('boolean'),
  AttachStdout: honoured('boolean'),
  AttachStderr: honoured('boolean'),
  // Stored and shown, as Docker does; publishing them is the networks' work.
  ExposedPorts: honoured('object'),
  Tty: honoured('boolean'),
  OpenStdin: honoured('boolean'),
  StdinOnce: honoured('boolean'),
  Env: honoured('strings'),
  Cmd: honoured('strslice'),
  // Checked with moby's messages by the supervisor's health monitor, which runs it.
  Healthcheck: honoured('object'),
  ArgsEscaped: zeroOnly('boolean'),
  Image: honoured('string'),
  Volumes: honoured('object'),
  WorkingDir: honoured('string'),
  Entrypoint: honoured('strslice'),
  NetworkDisabled: zeroOnly('boolean'),
  MacAddress: honoured('string'),
  // Build-time instructions: stored, as a container never runs them (Docker neither).
  OnBuild: honoured('strings'),
  Labels: honoured('stringMap'),
  StopSignal: honoured('string'),
  StopTimeout: honoured('integer'),
  Shell: honoured('strings'),
};

/** Every `HostConfig` field of Engine API 1.41 (and the later ones clients send). */
const HOST_CONFIG_FIELDS: Record<string, Field> = {
  Binds: honoured('strings'),
  ContainerIDFile: honoured('string'),
  LogConfig: honoured('object'),
  NetworkMode: honoured('string'),
  PortBindings: honoured('object'),
  RestartPolicy: honoured('object'),
  AutoRemove: honoured('boolean'),
  VolumeDriver: honoured('string'),
  VolumesFrom: honoured('strings'),
  ConsoleSize: honoured('pair'),
  Annotations: zeroOnly('stringMap'),
  CapAdd: honoured('strings'),
  CapDrop: honoured('strings'),
  CgroupnsMode: zeroOnly('string', ['host']),
  Dns: honoured('strings'),
  DnsOptions: honoured('strings'),
  DnsSearch: honoured('strings'),
  ExtraHosts: honoured('strings'),
  GroupAdd: honoured('strings'),
  IpcMode: honoured('string'),
  Cgroup: zeroOnly('string'),
  // These and the other network fields are checked by resolveContainer: the caller's network service takes them.
  Links: honoured('strings'),
  OomScoreAdj: honoured('integer'),
  PidMode: honoured('string'),
  Privileged: honoured('boolean'),
  PublishAllPorts: honoured('boolean'),
  ReadonlyRootfs: honoured('boolean'),
  SecurityOpt: honoured('strings'),
  StorageOpt: zeroOnly('stringMap'),
  Tmpfs: honoured('stringMap'),
  UTSMode: honoured('string'),
  UsernsMode: zeroOnly('string'),
  ShmSize: honoured('integer'),
  Sysctls: honoured('stringMap'),
  Runtime: zeroOnly('string'),
  Isolation: zeroOnly('string', ['default']),
  CpuShares: honoured('integer'),
  Memory: honoured('integer'),
  NanoCpus: honoured('integer'),
  CgroupParent: zeroOnly('string'),
  BlkioWeight: zeroOnly('integer'),
  BlkioWeightDevice: zeroOnly('array'),
  BlkioDeviceReadBps: zeroOnly('array'),
  BlkioDeviceWriteBps: zeroOnly('array'),
  BlkioDeviceReadIOps: zeroOnly('array'),
  BlkioDeviceWriteIOps: zeroOnly('array'),
  CpuPeriod: honoured('integer'),
  CpuQuota: honoured('integer'),
  CpuRealtimePeriod: zeroOnly('integer'),
  CpuRealtimeRuntime: zeroOnly('integer'),
  CpusetCpus: honoured('string'),
  CpusetMems: honoured('string'),
  Devices: honoured('array'),
  DeviceCgroupRules: honoured('strings'),
  DeviceRequests: zeroOnly('array'),
  KernelMemory: zeroOnly('integer'),
  KernelMemoryTCP: zeroOnly('integer'),
  MemoryReservation: honoured('integer'),
  MemorySwap: honoured('integer'),
  // -1 is the docker CLI's "unset" in older versions.
  MemorySwappiness: zeroOnly('integer', [-1]),
  OomKillDisable: zeroOnly('boolean'),
  PidsLimit: honoured('integer'),
  Ulimits: honoured('array'),
  CpuCount: zeroOnly('integer'),
  CpuPercent: zeroOnly('integer'),
  IOMaximumIOps: zeroOnly('integer'),
  IOMaximumBandwidth: zeroOnly('integer'),
  Mounts: honoured('array'),
  MaskedPaths: honoured('strings'),
  ReadonlyPaths: honoured('strings'),
  Init: honoured('boolean'),
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function kindOk(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'integer': return typeof value === 'number' && Number.isSafeInteger(value);
    case 'strings': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'strslice': return typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    case 'array': return Array.isArray(value);
    case 'object': return isRecord(value);
    case 'stringMap': return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
    case 'pair': return Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
  }
}

const DESCRIBE: Record<Kind, string> = {
  string: 'a string', boolean: 'a boolean', integer: 'an integer', strings: 'an array of strings',
  strslice: 'a string or an array of strings', array: 'an array', object: 'an object', stringMap: 'an object of strings',
  pair: 'an array of two non-negative integers',
};

/** Docker's zero values: what a client sends for "not set". */
function isZero(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === 0 || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return false;
}

function checkSection(obj: Record<string, unknown>, table: Record<string, Field>, prefix: string): void {
  for (const [key, field] of Object.entries(table)) {
    const value = obj[key];
    if (value === undefined || value === null) continue;
    if (!kindOk(value, field.kind)) {
      throw new CreateRequestError(`invalid JSON in request body: ${prefix}${key} must be ${DESCRIBE[field.kind]}, got ${JSON.stringify(value)}`);
    }
    if (field.support === 'zero' && !isZero(value) && !(field.accept ?? []).includes(value)) {
      throw new UnsupportedFieldError(`${prefix}${key}`, value);
    }
  }
}

function strslice(v: unknown): string[] | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return typeof v === 'string' ? [v] : (v as string[]);
}

function networkingConfig(raw: unknown): NetworkingConfig {
  if (raw === undefined || raw === null) return { EndpointsConfig: {} };
  if (!isRecord(raw)) throw new CreateRequestError('invalid JSON in request body: NetworkingConfig must be an object');
  const endpoints = raw['EndpointsConfig'];
  if (endpoints === undefined || endpoints === null) return { EndpointsConfig: {} };
  if (!isRecord(endpoints) || !Object.values(endpoints).every((e) => e === null || isRecord(e))) {
    throw new CreateRequestError('invalid JSON in request body: NetworkingConfig.EndpointsConfig must be an object of objects');
  }
  const out: NetworkingConfig['EndpointsConfig'] = {};
  for (const [name, settings] of Object.entries(endpoints)) out[name] = { ...((settings ?? {}) as object) };
  return { EndpointsConfig: out };
}

/**
 * Checks an untrusted create body and returns what it asks for, typed.
 * Config fields are at the top level of the body (Docker's wire format),
 * with `HostConfig` and `NetworkingConfig` beside them. Throws
 * CreateRequestError (a wrong type, no image), UnsupportedFieldError (a
 * field berth does not implement, set) or MountSpecError (the mount fields).
 */
export function parseCreateBody(body: unknown): CreateRequest {
  if (!isRecord(body)) throw new CreateRequestError('invalid JSON in request body: expected an object with the container config');
  checkSection(body, CONFIG_FIELDS, '');
  const rawHost = body['HostConfig'];
  if (rawHost !== undefined && rawHost !== null && !isRecord(rawHost)) {
    throw new CreateRequestError('invalid JSON in request body: HostConfig must be an object');
  }
  const host = (rawHost ?? {}) as Record<string, unknown>;
  checkSection(host, HOST_CONFIG_FIELDS, 'HostConfig.');
  // The mount fields' inner shapes (Mounts[].BindOptions ...), with the same messages as before.
  checkApiFields({ Config: body, HostConfig: host });
  const image = body['Image'];
  if (typeof image !== 'string' || image === '') {
    throw new CreateRequestError('config cannot be empty in order to create a container: no image given (Config.Image is empty)');
  }
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_FIELDS)) if (body[key] !== undefined) config[key] = body[key];
  for (const key of ['Cmd', 'Entrypoint']) if (key in config) config[key] = strslice(config[key]);
  const hostConfig: Record<string, unknown> = {};
  for (const key of Object.keys(HOST_CONFIG_FIELDS)) if (host[key] !== undefined) hostConfig[key] = host[key];
  return {
    config: config as CreateRequest['config'],
    hostConfig: hostConfig as CreateRequest['hostConfig'],
    networkingConfig: networkingConfig(body['NetworkingConfig']),
  };
}
