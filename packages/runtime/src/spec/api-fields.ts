// Shape checks for the mount fields of an untrusted create body. Docker's
// JSON decoder would refuse these; berth says which field was wrong.

import { MountSpecError } from '../errors.js';
import type { ApiMount, ApiMountFields } from './types.js';

const fail = (field: string, expected: string): never => {
  throw new MountSpecError('invalid-api-field', `invalid ${field}: expected ${expected}`, field);
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(v: unknown, field: string): void {
  if (v !== undefined && v !== null && typeof v !== 'string') fail(field, 'a string');
}
function optBool(v: unknown, field: string): void {
  if (v !== undefined && v !== null && typeof v !== 'boolean') fail(field, 'a boolean');
}
function optCount(v: unknown, field: string): void {
  if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    fail(field, 'a non-negative integer');
  }
}
function optStringMap(v: unknown, field: string): void {
  if (v === undefined || v === null) return;
  if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) fail(field, 'an object of strings');
}
function optStringArray(v: unknown, field: string): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(field, 'an array of strings');
}

function checkMount(m: unknown, i: number): void {
  const at = `HostConfig.Mounts[${i}]`;
  if (!isRecord(m)) return fail(at, 'an object');
  if (typeof m['Type'] !== 'string') fail(`${at}.Type`, 'a string');
  optString(m['Source'], `${at}.Source`);
  optString(m['Target'], `${at}.Target`);
  optBool(m['ReadOnly'], `${at}.ReadOnly`);
  optString(m['Consistency'], `${at}.Consistency`);
  const b = m['BindOptions'];
  if (b !== undefined && b !== null) {
    if (!isRecord(b)) fail(`${at}.BindOptions`, 'an object');
    else {
      optString(b['Propagation'], `${at}.BindOptions.Propagation`);
      for (const k of ['NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']) {
        optBool(b[k], `${at}.BindOptions.${k}`);
      }
    }
  }
  const v = m['VolumeOptions'];
  if (v !== undefined && v !== null) {
    if (!isRecord(v)) fail(`${at}.VolumeOptions`, 'an object');
    else {
      optBool(v['NoCopy'], `${at}.VolumeOptions.NoCopy`);
      optStringMap(v['Labels'], `${at}.VolumeOptions.Labels`);
      optString(v['Subpath'], `${at}.VolumeOptions.Subpath`);
      const d = v['DriverConfig'];
      if (d !== undefined && d !== null) {
        if (!isRecord(d)) fail(`${at}.VolumeOptions.DriverConfig`, 'an object');
        else {
          optString(d['Name'], `${at}.VolumeOptions.DriverConfig.Name`);
          optStringMap(d['Options'], `${at}.VolumeOptions.DriverConfig.Options`);
        }
      }
    }
  }
  const t = m['TmpfsOptions'];
  if (t !== undefined && t !== null) {
    if (!isRecord(t)) fail(`${at}.TmpfsOptions`, 'an object');
    else {
      optCount(t['SizeBytes'], `${at}.TmpfsOptions.SizeBytes`);
      optCount(t['Mode'], `${at}.TmpfsOptions.Mode`);
      const o = t['Options'];
      if (o !== undefined && o !== null) {
        const ok = Array.isArray(o) && o.every((kv) => Array.isArray(kv) && kv.length >= 1 && kv.length <= 2
          && kv.every((x) => typeof x === 'string'));
        if (!ok) fail(`${at}.TmpfsOptions.Options`, 'an array of [key] or [key, value] string arrays');
      }
    }
  }
  const img = m['ImageOptions'];
  if (img !== undefined && img !== null && !isRecord(img)) fail(`${at}.ImageOptions`, 'an object');
}

/** Drop JSON nulls (Docker's zero values) so the parsers see only absent or well-typed fields. */
function withoutNulls(m: Record<string, unknown>): ApiMount {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null) continue;
    out[k] = isRecord(v) && k !== 'Labels' && k !== 'Options' ? withoutNulls(v) : v;
  }
  return out as unknown as ApiMount;
}

/** The checked, null-free mount fields of a create body. */
export interface CheckedApiFields {
  binds: string[];
  mounts: ApiMount[];
  tmpfs: Array<[string, string]>;
  volumes: string[];
  volumesFrom: string[];
  volumeDriver: string;
}

export function checkApiFields(fields: ApiMountFields | unknown): CheckedApiFields {
  if (fields === undefined || fields === null) fields = {};
  if (!isRecord(fields)) return fail('create body', 'an object');
  const config = fields['Config'];
  const host = fields['HostConfig'];
  if (config !== undefined && config !== null && !isRecord(config)) fail('Config', 'an object');
  if (host !== undefined && host !== null && !isRecord(host)) fail('HostConfig', 'an object');
  const c = isRecord(config) ? config : {};
  const h = isRecord(host) ? host : {};

  optStringArray(h['Binds'], 'HostConfig.Binds');
  optStringArray(h['VolumesFrom'], 'HostConfig.VolumesFrom');
  optStringMap(h['Tmpfs'], 'HostConfig.Tmpfs');
  optString(h['VolumeDriver'], 'HostConfig.VolumeDriver');
  optBool(h['ReadonlyRootfs'], 'HostConfig.ReadonlyRootfs');
  const mounts = h['Mounts'];
  if (mounts !== undefined && mounts !== null) {
    if (!Array.isArray(mounts)) fail('HostConfig.Mounts', 'an array of objects');
    (mounts as unknown[]).forEach(checkMount);
  }
  const volumes = c['Volumes'];
  if (volumes !== undefined && volumes !== null && !isRecord(volumes)) fail('Config.Volumes', 'an object');

  return {
    binds: (h['Binds'] as string[] | null | undefined) ?? [],
    mounts: ((mounts as Record<string, unknown>[] | null | undefined) ?? []).map(withoutNulls),
    tmpfs: Object.entries((h['Tmpfs'] as Record<string, string> | null | undefined) ?? {}),
    volumes: Object.keys((volumes as Record<string, unknown> | null | undefined) ?? {}),
    volumesFrom: (h['VolumesFrom'] as string[] | null | undefined) ?? [],
    volumeDriver: (h['VolumeDriver'] as string | null | undefined) ?? '',
  };
}
