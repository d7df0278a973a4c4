/**
 * `berth run`/`berth create` flags turned into the `POST /containers/create`
 * body, with the same field placement and zero values the docker CLI sends
 * (docker-clients.md): `null` means "server defaults", `0` means unlimited.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { networkFields } from './network-flags.js';
import { parseMemory } from './format/size.js';
import { convertMountFlags, type MountConverter } from './mount-flags.js';

export interface CreateFlags {
  name?: string;
  rm?: boolean;
  detach?: boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  volumesFrom: string[];
  readOnly?: boolean;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  memory?: string;
  pidsLimit?: string;
  cpus?: string;
  network?: string;
  entrypoint?: string;
  init?: boolean;
  interactive?: boolean;
  tty?: boolean;
  /** `no`, `always`, `unless-stopped` or `on-failure[:max-retries]`. */
  restart?: string;
  logDriver?: string;
  /** `key=value`, as `--log-opt` (the daemon checks the keys). */
  logOpt?: string[];
  /** `--pull`: always, missing (the default) or never, as the docker CLI's. */
  pull?: string;
  /** `--platform`: os/arch[/variant] of the image to pull and to run (the create's `platform` query). */
  platform?: string;
  /** The caller's terminal size, [rows, cols], sent as HostConfig.ConsoleSize with --tty. */
  consoleSize?: [number, number];
  /** networks: -p, -P, --expose, --network-alias, --ip, --mac-address, --dns*, --add-host, --link (network-flags.ts). */
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  networkAlias?: string[];
  ip?: string;
  macAddress?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  link?: string[];
}

export interface CreateRequest {
  /** `?name=` of the request, when given. */
  name?: string;
  body: Record<string, unknown>;
}

/** `-e K=V` as given; `-e K` takes K from the caller's environment, or is dropped (docker). */
export function resolveEnv(entries: readonly string[], environment: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith('=')) throw new UsageError(`invalid environment variable '${entry}': use -e NAME=VALUE`);
    if (entry.includes('=')) out.push(entry);
    else if (environment[entry] !== undefined) out.push(`${entry}=${environment[entry]}`);
  }
  return out;
}

function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --env-file ${file}: ${(error as Error).message}`);
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function integer(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid ${flag} '${value}': use a whole number`);
  return Number(value);
}

function nanoCpus(value: string | undefined): number {
  if (value === undefined) return 0;
  const cpus = Number(value);
  if (!Number.isFinite(cpus) || cpus < 0 || value.trim() === '') throw new UsageError(`invalid --cpus '${value}': use a number such as 1.5`);
  return Math.round(cpus * 1e9);
}

function memory(value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    return parseMemory(value);
  } catch (error) {
    throw new UsageError(`invalid --memory: ${(error as Error).message}`);
  }
}

function logOptions(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --log-opt '${v}': use key=value, for example max-size=10m`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** docker's `--restart` syntax into HostConfig.RestartPolicy; the daemon checks the rest. */
function restartPolicy(value: string | undefined, rm: boolean): { Name: string; MaximumRetryCount: number } {
  if (value === undefined || value === '') return { Name: 'no', MaximumRetryCount: 0 };
  const [name = '', count, ...extra] = value.split(':');
  if (extra.length > 0 || (count !== undefined && !/^-?\d+$/.test(count))) {
    throw new UsageError(`invalid --restart '${value}': use no, always, unless-stopped or on-failure[:max-retries]`);
  }
  if (rm && name !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');
  return { Name: name, MaximumRetryCount: count === undefined ? 0 : Number(count) };
}

export function buildCreateRequest(
  flags: CreateFlags,
  image: string,
  command: readonly string[],
  context: { cwd: string; env: NodeJS.ProcessEnv },
  convertMounts: MountConverter = convertMountFlags,
): CreateRequest {
  // networks: any network name or container:<id>; the daemon refuses unknown ones.
  const net = networkFields({
    ...(flags.network !== undefined ? { network: flags.network } : {}), publish: flags.publish ?? [],
    ...(flags.publishAll !== undefined ? { publishAll: flags.publishAll } : {}), expose: flags.expose ?? [],
    networkAlias: flags.networkAlias ?? [], ...(flags.ip !== undefined ? { ip: flags.ip } : {}),
    ...(flags.macAddress !== undefined ? { macAddress: flags.macAddress } : {}), dns: flags.dns ?? [],
    dnsSearch: flags.dnsSearch ?? [], dnsOption: flags.dnsOption ?? [], addHost: flags.addHost ?? [], link: flags.link ?? [],
  });
  const mounts = convertMounts(flags, context.cwd);
  const env = [...flags.envFile.flatMap(readEnvFile), ...resolveEnv(flags.env, context.env)];
  const attached = flags.detach !== true;
  const hostConfig: Record<string, unknown> = {
    Binds: mounts.Binds.length > 0 ? mounts.Binds : null,
    ...net.hostConfig,
    AutoRemove: flags.rm === true,
    RestartPolicy: restartPolicy(flags.restart, flags.rm === true),
    LogConfig: { Type: flags.logDriver ?? '', Config: logOptions(flags.logOpt ?? []) },
    VolumesFrom: flags.volumesFrom.length > 0 ? flags.volumesFrom : null,
    ReadonlyRootfs: flags.readOnly === true,
    Memory: memory(flags.memory),
    NanoCpus: nanoCpus(flags.cpus),
    PidsLimit: integer('--pids-limit', flags.pidsLimit),
    Init: flags.init === true ? true : null,
    MaskedPaths: null,
    ReadonlyPaths: null,
    ...(flags.tty === true && flags.consoleSize ? { ConsoleSize: flags.consoleSize } : {}),
  };
  if (mounts.Mounts.length > 0) hostConfig['Mounts'] = mounts.Mounts;
  if (Object.keys(mounts.Tmpfs).length > 0) hostConfig['Tmpfs'] = mounts.Tmpfs;
  const body: Record<string, unknown> = {
    Hostname: flags.hostname ?? '',
    User: flags.user ?? '',
    // docker's -i: stdin stays open; an attached `run -i` also ends it when its input ends.
    AttachStdin: attached && flags.interactive === true,
    AttachStdout: attached,
    AttachStderr: attached,
    Tty: flags.tty === true,
    OpenStdin: flags.interactive === true,
    StdinOnce: attached && flags.interactive === true,
    Env: env.length > 0 ? env : null,
    Cmd: command.length > 0 ? [...command] : null,
    Image: image,
    Volumes: mounts.Volumes,
    WorkingDir: flags.workdir ?? '',
    Entrypoint: flags.entrypoint === undefined ? null : [flags.entrypoint],
    Labels: {},
    ...net.config,
    HostConfig: hostConfig,
    NetworkingConfig: net.networkingConfig,
  };
  return flags.name === undefined ? { body } : { name: flags.name, body };
}
