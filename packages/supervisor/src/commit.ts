/**
 * `docker commit`'s image config: the container's config, the request's
 * config merged over it as moby's `merge` does, then the `changes`
 * (Dockerfile instructions) applied. Pure data; the layer is the layer
 * store's (`LayerStore.commitContainer`).
 */
import { posix } from 'node:path';
import type { ContainerConfig } from './engine.js';
import { InvalidParameterError } from './errors.js';

/** The image config fields a commit keeps from a container's config. */
const IMAGE_FIELDS = ['Cmd', 'Entrypoint', 'Env', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'] as const;

export type CommitConfig = Record<string, unknown> & {
  Cmd?: string[]; Entrypoint?: string[]; Env?: string[]; WorkingDir?: string; User?: string;
  Labels?: Record<string, string>; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object>;
};

const envKey = (e: string): string => e.split('=', 1)[0]!;

/** moby's daemon `merge(userConf, imageConf)`: the request's fields win, maps and Env are merged. */
export function mergeCommitConfig(container: ContainerConfig, request: Record<string, unknown>): CommitConfig {
  const base: CommitConfig = {};
  const baseRecord = base as Record<string, unknown>;
  for (const key of IMAGE_FIELDS) {
    const v = container[key];
    if (v !== undefined && v !== null) baseRecord[key] = v;
  }
  const user = request as CommitConfig;
  const out: CommitConfig = { ...base };
  const outRecord = out as Record<string, unknown>;
  for (const key of IMAGE_FIELDS) {
    const v = user[key];
    if (v === undefined || v === null) continue;
    if (key === 'Env') {
      const env = [...(base.Env ?? [])];
      for (const e of v as string[]) {
        const i = env.findIndex((x) => envKey(x) === envKey(e));
        if (i >= 0) env[i] = e;
        else env.push(e);
      }
      out.Env = env;
    } else if (key === 'Labels' || key === 'ExposedPorts' || key === 'Volumes') {
      outRecord[key] = { ...((base[key] as object | undefined) ?? {}), ...(v as object) };
    } else {
      outRecord[key] = v;
    }
  }
  // An Entrypoint given without a Cmd clears the old Cmd only when the request sets one: moby keeps the image's.
  if (user.Entrypoint === undefined && user.Cmd === undefined) {
    if (base.Cmd) out.Cmd = base.Cmd;
  }
  return out;
}

/** Words of an instruction's arguments: the JSON form (`["a","b"]`) or split on whitespace. */
function jsonOrWords(args: string): { json: string[] | undefined; words: string[] } {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed = JSON.parse(trimmed) as unknown;
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return { json: parsed as string[], words: parsed as string[] };
    } catch { /* not JSON: the shell form */ }
  }
  return { json: undefined, words: trimmed === '' ? [] : trimmed.split(/\s+/) };
}

/** `KEY=VALUE ...` pairs (with "quoted values") or the old `KEY VALUE` form. */
function pairs(instr: string, args: string): [string, string][] {
  const words = args.trim().match(/(?:[^\s"']+|"(?:\\.|[^"])*"|'[^']*')+/g) ?? [];
  if (words.length === 0) throw new InvalidParameterError(`${instr} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    if (words.length < 2) throw new InvalidParameterError(`${instr} must have two arguments`);
    return [[words[0]!, args.trim().slice(words[0]!.length).trim()]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidParameterError(`${instr} names can not be blank`);
    return [w.slice(0, i), unquote(w.slice(i + 1))];
  });
}

function unquote(v: string): string {
  if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

const PORT = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i;

/**
 * Applies `docker commit --change` instructions (CMD, ENTRYPOINT, ENV,
 * EXPOSE, LABEL, USER, VOLUME, WORKDIR, ONBUILD, STOPSIGNAL), with moby's
 * messages for the ones it refuses.
 */
export function applyChanges(config: CommitConfig, changes: readonly string[]): CommitConfig {
  const out: CommitConfig = { ...config };
  for (const change of changes) {
    const line = change.trim();
    if (line === '') continue;
    const [first = ''] = line.split(/\s+/, 1);
    const instr = first.toUpperCase();
    const args = line.slice(first.length).trim();
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const { json } = jsonOrWords(args);
        const value = json ?? (args === '' ? [] : ['/bin/sh', '-c', args]);
        if (instr === 'CMD') out.Cmd = value;
        else {
          out.Entrypoint = value;
          // As in a Dockerfile: a new ENTRYPOINT drops the CMD inherited with the old one.
          delete out.Cmd;
        }
        break;
      }
      case 'ENV': {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of pairs('ENV', args)) {
          const i = env.findIndex((x) => envKey(x) === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs('LABEL', args)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        const words = jsonOrWords(args).words;
        if (words.length === 0) throw new InvalidParameterError('EXPOSE requires at least one argument');
        for (const p of words) {
          const m = PORT.exec(p);
          if (!m) throw new InvalidParameterError(`Invalid containerPort: ${p.split('/')[0]}`);
          const proto = (m[3] ?? 'tcp').toLowerCase();
          const from = Number(m[1]);
          const to = m[2] === undefined ? from : Number(m[2]);
          for (let port = from; port <= to; port++) ports[`${port}/${proto}`] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'USER':
        if (args === '') throw new InvalidParameterError('USER requires exactly one argument');
        out.User = args;
        break;
      case 'VOLUME': {
        const words = jsonOrWords(args).words;
        if (words.length === 0) throw new InvalidParameterError('VOLUME specified can not be an empty string');
        out.Volumes = { ...(out.Volumes ?? {}), ...Object.fromEntries(words.map((v) => [v, {}])) };
        break;
      }
      case 'WORKDIR': {
        const words = jsonOrWords(args).words;
        if (words.length !== 1) throw new InvalidParameterError('WORKDIR requires exactly one argument');
        out.WorkingDir = posix.resolve(out.WorkingDir || '/', words[0]!);
        break;
      }
      case 'STOPSIGNAL':
        if (args === '') throw new InvalidParameterError('STOPSIGNAL requires exactly one argument');
        out['StopSignal'] = args;
        break;
      case 'ONBUILD':
        if (args === '') throw new InvalidParameterError('ONBUILD requires at least one argument');
        out['OnBuild'] = [...((out['OnBuild'] as string[] | undefined) ?? []), args];
        break;
      default:
        throw new InvalidParameterError(`${first.toLowerCase()} is not a valid change command`);
    }
  }
  return out;
}
