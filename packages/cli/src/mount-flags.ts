/**
 * `-v`, `--mount` and `--tmpfs` turned into Docker API fields the way the
 * docker CLI does it: `-v` with a source goes to HostConfig.Binds verbatim
 * (relative `./dir` made absolute), `-v /path` alone is an anonymous volume in
 * Config.Volumes, `--mount` becomes HostConfig.Mounts objects, `--tmpfs`
 * HostConfig.Tmpfs. Deeper validation (names, modes) is the server's job so
 * berth and dockerd give the same answers.
 *
 * This is the CLI's own minimal conversion; @berth/runtime's spec module is
 * meant to own it and this file should defer to it once that exists.
 */
import path from 'node:path';
import { UsageError } from './errors.js';
import { parseMemory } from './format/size.js';

export interface MountFields {
  Binds: string[];
  Volumes: Record<string, object>;
  Mounts: ApiMount[];
  Tmpfs: Record<string, string>;
}

export interface ApiMount {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

const TRUE = new Set(['', '1', 'true', 'yes']);
const FALSE = new Set(['0', 'false', 'no']);

function bool(key: string, value: string, spec: string): boolean {
  const v = value.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new UsageError(`invalid value '${value}' for '${key}' in --mount ${spec}: use true or false`);
}

/** One `-v` value into Binds (has a source) or Volumes (anonymous). */
export function convertVolumeFlag(spec: string, cwd: string, into: MountFields): void {
  const parts = spec.split(':');
  // docker/cli keeps a one-letter section before ':' together as a Windows
  // drive, even on Linux: `-v v:/d` is the anonymous volume "v:/d" (verified
  // against docker CLI 28). Use names of two letters or more.
  if (/^\p{L}$/u.test(parts[0] ?? '') && parts.length > 1) parts.splice(0, 2, `${parts[0] ?? ''}:${parts[1] ?? ''}`);
  if (spec === '' || parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) {
    throw new UsageError(`invalid volume specification '${spec}': use -v NAME:/path, -v /host/dir:/path[:ro] or -v /path`);
  }
  if (parts.length === 1) {
    if (Buffer.byteLength(spec) > 2 && /^\p{L}:/u.test(spec)) {
      into.Volumes[spec] = {};
      return;
    }
    if (!spec.startsWith('/')) {
      throw new UsageError(`invalid volume specification '${spec}': the container path must be absolute (for example -v /data)`);
    }
    into.Volumes[spec] = {};
    return;
  }
  const [source = '', target = ''] = parts;
  if (!target.startsWith('/')) {
    throw new UsageError(`invalid volume specification '${spec}': the container path '${target}' must be absolute`);
  }
  const host = source.startsWith('.') ? path.resolve(cwd, source) : source;
  into.Binds.push([host, ...parts.slice(1)].join(':'));
}

/** One `--mount type=...,source=...,target=...` value into a Mounts entry. */
export function convertMountFlag(spec: string): ApiMount {
  const fields: Record<string, string> = {};
  for (const item of spec.split(',')) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (key === '') continue;
    fields[key] = eq < 0 ? '' : item.slice(eq + 1);
  }
  const type = fields['type'] ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw new UsageError(`invalid mount type '${type}' in --mount ${spec}: use bind, volume or tmpfs`);
  }
  const target = fields['target'] ?? fields['destination'] ?? fields['dst'];
  if (target === undefined || target === '') {
    throw new UsageError(`invalid --mount ${spec}: target is required (for example target=/data)`);
  }
  const mount: ApiMount = { Type: type, Target: target };
  const source = fields['source'] ?? fields['src'];
  if (source !== undefined && source !== '') mount.Source = source;
  for (const [key, value] of Object.entries(fields)) {
    switch (key) {
      case 'type': case 'target': case 'destination': case 'dst': case 'source': case 'src':
        break;
      case 'readonly': case 'ro':
        if (bool(key, value, spec)) mount.ReadOnly = true;
        break;
      case 'bind-propagation':
        mount.BindOptions = { ...mount.BindOptions, Propagation: value };
        break;
      case 'bind-recursive':
        if (value === 'disabled') mount.BindOptions = { ...mount.BindOptions, NonRecursive: true };
        break;
      case 'volume-nocopy':
        mount.VolumeOptions = { ...mount.VolumeOptions, NoCopy: bool(key, value, spec) };
        break;
      case 'volume-subpath':
        mount.VolumeOptions = { ...mount.VolumeOptions, Subpath: value };
        break;
      case 'volume-label': {
        const [k = '', v = ''] = value.split('=');
        mount.VolumeOptions = { ...mount.VolumeOptions, Labels: { ...mount.VolumeOptions?.Labels, [k]: v } };
        break;
      }
      case 'volume-driver':
        mount.VolumeOptions = { ...mount.VolumeOptions, DriverConfig: { ...mount.VolumeOptions?.DriverConfig, Name: value } };
        break;
      case 'volume-opt': {
        const [k = '', v = ''] = value.split('=');
        const driver = mount.VolumeOptions?.DriverConfig;
        mount.VolumeOptions = { ...mount.VolumeOptions, DriverConfig: { ...driver, Options: { ...driver?.Options, [k]: v } } };
        break;
      }
      case 'tmpfs-size':
        try {
          mount.TmpfsOptions = { ...mount.TmpfsOptions, SizeBytes: parseMemory(value) };
        } catch (error) {
          throw new UsageError(`invalid tmpfs-size in --mount ${spec}: ${(error as Error).message}`);
        }
        break;
      case 'tmpfs-mode': {
        const mode = Number.parseInt(value, 8);
        if (!/^[0-7]+$/.test(value)) throw new UsageError(`invalid tmpfs-mode '${value}' in --mount ${spec}: use octal, for example 1777`);
        mount.TmpfsOptions = { ...mount.TmpfsOptions, Mode: mode };
        break;
      }
      default:
        throw new UsageError(`unexpected key '${key}' in --mount ${spec}: use type, source, target, readonly, bind-propagation, volume-nocopy, volume-opt, tmpfs-size or tmpfs-mode`);
    }
  }
  return mount;
}

/** `--tmpfs /run[:opts]` into a Tmpfs entry. */
export function convertTmpfsFlag(spec: string, into: MountFields): void {
  const colon = spec.indexOf(':');
  const target = colon < 0 ? spec : spec.slice(0, colon);
  if (!target.startsWith('/')) {
    throw new UsageError(`invalid --tmpfs ${spec}: the container path must be absolute (for example --tmpfs /run:size=64m)`);
  }
  into.Tmpfs[target] = colon < 0 ? '' : spec.slice(colon + 1);
}

export function convertMountFlags(flags: { volume: readonly string[]; mount: readonly string[]; tmpfs: readonly string[] }, cwd: string): MountFields {
  const fields: MountFields = { Binds: [], Volumes: {}, Mounts: [], Tmpfs: {} };
  for (const v of flags.volume) convertVolumeFlag(v, cwd, fields);
  for (const m of flags.mount) fields.Mounts.push(convertMountFlag(m));
  for (const t of flags.tmpfs) convertTmpfsFlag(t, fields);
  return fields;
}

export type MountConverter = (flags: { volume: readonly string[]; mount: readonly string[]; tmpfs: readonly string[] }, cwd: string) => MountFields;

interface RuntimeSpecModule {
  cliToApiFields?: (flags: { volume?: readonly string[]; mount?: readonly string[]; tmpfs?: readonly string[] }, options: { cwd: string }) => {
    Config: { Volumes: Record<string, object> };
    HostConfig: { Binds: string[]; Mounts: unknown[]; Tmpfs: Record<string, string> };
  };
}

/**
 * Prefers @berth/runtime's `cliToApiFields` (the one shared parser with
 * docker's exact messages) when that package is built and linked, and falls
 * back to this file's conversion otherwise. Its errors become usage errors.
 */
export async function loadMountConverter(): Promise<MountConverter> {
  const specifier = '@berth/runtime';
  let shared: RuntimeSpecModule['cliToApiFields'];
  try {
    shared = ((await import(specifier)) as RuntimeSpecModule).cliToApiFields;
  } catch {
    shared = undefined;
  }
  if (shared === undefined) return convertMountFlags;
  const cliToApiFields = shared;
  return (flags, cwd) => {
    try {
      const fields = cliToApiFields(flags, { cwd });
      return { Binds: fields.HostConfig.Binds, Volumes: fields.Config.Volumes, Mounts: fields.HostConfig.Mounts as ApiMount[], Tmpfs: fields.HostConfig.Tmpfs };
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  };
}
