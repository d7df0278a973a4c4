import { MountSpecError } from '../errors.js';
import { parseOctalUint32, ramInBytes, readCsvRecord, CsvError } from './go-compat.js';
import type { ApiMount } from './types.js';

/** What docker/cli's `-v` parser (compose `loader.ParseVolume`) makes of one value. */
export interface ParsedVolumeFlag {
  type: 'bind' | 'volume';
  /** '' for an anonymous volume. */
  source: string;
  target: string;
}

/**
 * docker/cli's client-side `-v` check. It only splits on colons (keeping a
 * one-letter Windows drive such as `c:` together, as Docker does) and
 * rejects empty sections and more than three parts; modes are the daemon's job.
 */
export function parseVolumeFlag(spec: string): ParsedVolumeFlag {
  const chars = Array.from(spec);
  if (chars.length === 0) throw new MountSpecError('invalid-volume-flag', 'invalid empty volume spec', spec);
  // docker/cli checks len() in bytes: one or two bytes is always a bare target.
  if (Buffer.byteLength(spec) <= 2) return { type: 'volume', source: '', target: spec };

  let source = '';
  let target = '';
  let haveSource = false;
  let haveTarget = false;
  let buffer: string[] = [];
  const end = Symbol('end');
  for (const char of [...chars, end]) {
    const isDrive = char === ':' && buffer.length === 1 && /^\p{L}$/u.test(buffer[0] ?? '');
    if (isDrive) {
      buffer.push(':');
    } else if (char === ':' || char === end) {
      const text = buffer.join('');
      const fail = (cause: string): never => {
        throw new MountSpecError('invalid-volume-flag', `invalid spec: ${spec}: ${cause}`, spec);
      };
      if (buffer.length === 0) fail('empty section between colons');
      else if (!haveSource && char === end) {
        target = text;
        haveTarget = true;
      } else if (!haveSource) {
        source = text;
        haveSource = true;
      } else if (!haveTarget) {
        target = text;
        haveTarget = true;
      } else if (char === ':') fail('too many colons');
      // A third section is the mode list; the CLI ignores its content.
      buffer = [];
    } else if (typeof char === 'string') {
      buffer.push(char);
    }
  }
  return { type: source !== '' && isFilePath(source) ? 'bind' : 'volume', source, target };
}

function isFilePath(source: string): boolean {
  const first = source[0];
  if (first === '.' || first === '/' || first === '~') return true;
  if (source.startsWith('\\\\')) return true;
  const [a, b] = Array.from(source);
  return b === ':' && a !== undefined && /^\p{L}$/u.test(a);
}

const BOOLEAN_KEYS = new Set(['readonly', 'ro', 'volume-nocopy', 'bind-create-src', 'bind-nonrecursive']);

/**
 * docker/cli's `--mount` parser (`opts.MountOpt.Set`): one CSV record of
 * `key=value` fields, keys case-insensitive, `type` defaulting to volume.
 * A source starting with `.` is made absolute against `cwd`.
 */
export function parseMountFlag(value: string, cwd: string): ApiMount {
  const fail = (message: string): never => {
    throw new MountSpecError('invalid-mount-flag', message, value);
  };
  let fields: string[] = [];
  try {
    fields = readCsvRecord(value);
  } catch (error) {
    if (error instanceof CsvError) fail(error.message);
    throw error;
  }

  const mount: ApiMount = { Type: 'volume' };
  const bind = (): NonNullable<ApiMount['BindOptions']> => (mount.BindOptions ??= {});
  const volume = (): NonNullable<ApiMount['VolumeOptions']> => (mount.VolumeOptions ??= { Labels: {} });
  const driver = (): NonNullable<NonNullable<ApiMount['VolumeOptions']>['DriverConfig']> =>
    (volume().DriverConfig ??= {});
  const tmpfs = (): NonNullable<ApiMount['TmpfsOptions']> => (mount.TmpfsOptions ??= {});
  const setOnMap = (target: Record<string, string>, text: string): void => {
    const eq = text.indexOf('=');
    const k = eq < 0 ? text : text.slice(0, eq);
    if (k !== '') target[k] = eq < 0 ? '' : text.slice(eq + 1);
  };
  const parseBool = (key: string, val: string, hasValue: boolean): boolean => {
    if (!hasValue || val === '1' || val === 'true') return true;
    if (val === '0' || val === 'false') return false;
    return fail(
      `invalid value for '${key}': invalid boolean value (${JSON.stringify(val)}): must be one of "true", "1", "false", or "0"`,
    );
  };

  for (const field of fields) {
    const eq = field.indexOf('=');
    const hasValue = eq >= 0;
    const rawKey = hasValue ? field.slice(0, eq) : field;
    const val = hasValue ? field.slice(eq + 1) : '';
    const trimmedKey = rawKey.trim();
    if (trimmedKey !== rawKey) fail(`invalid option '${trimmedKey}' in '${field}': option should not have whitespace`);
    if (hasValue) {
      const trimmed = val.trim();
      if (trimmed === '') fail(`invalid value for '${rawKey}': value is empty`);
      if (trimmed !== val) fail(`invalid value for '${rawKey}' in '${field}': value should not have whitespace`);
    }
    const key = rawKey.toLowerCase();
    if (!hasValue && !BOOLEAN_KEYS.has(key)) fail(`invalid field '${field}' must be a key=value pair`);

    switch (key) {
      case 'type':
        mount.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = val.startsWith('.') ? absolute(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = parseBool(key, val, hasValue);
        break;
      case 'consistency':
        mount.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bind().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        fail('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
        break;
      case 'bind-recursive':
        switch (val) {
          case 'enabled':
            bind();
            break;
          case 'disabled':
            bind().NonRecursive = true;
            break;
          case 'writable':
            bind().ReadOnlyNonRecursive = true;
            break;
          case 'readonly':
            bind().ReadOnlyForceRecursive = true;
            break;
          default:
            fail(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'bind-create-src':
        bind().CreateMountpoint = parseBool(key, val, hasValue);
        break;
      case 'volume-subpath':
        volume().Subpath = val;
        break;
      case 'volume-nocopy':
        volume().NoCopy = parseBool(key, val, hasValue);
        break;
      case 'volume-label':
        setOnMap((volume().Labels ??= {}), val);
        break;
      case 'volume-driver':
        driver().Name = val;
        break;
      case 'volume-opt':
        setOnMap((driver().Options ??= {}), val);
        break;
      case 'image-subpath':
        (mount.ImageOptions ??= {}).Subpath = val;
        break;
      case 'tmpfs-size': {
        const size = ramInBytes(val);
        if (size === undefined) fail(`invalid value for ${key}: ${val}`);
        else tmpfs().SizeBytes = size;
        break;
      }
      case 'tmpfs-mode': {
        const mode = parseOctalUint32(val);
        if (mode === undefined) fail(`invalid value for ${key}: ${val}`);
        else tmpfs().Mode = mode;
        break;
      }
      default:
        fail(`unknown option '${key}' in '${field}'`);
    }
  }

  if ((mount.Target ?? '') === '') fail('target is required');
  const mix = (present: unknown, prefix: string, type: string): void => {
    if (present !== undefined && mount.Type !== type) fail(`cannot mix '${prefix}-*' options with mount type '${mount.Type}'`);
  };
  mix(mount.BindOptions, 'bind', 'bind');
  mix(mount.VolumeOptions, 'volume', 'volume');
  mix(mount.ImageOptions, 'image', 'image');
  mix(mount.TmpfsOptions, 'tmpfs', 'tmpfs');
  const opts = mount.BindOptions;
  if (opts?.ReadOnlyNonRecursive === true && mount.ReadOnly !== true) {
    fail("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  }
  if (opts?.ReadOnlyForceRecursive === true) {
    if (mount.ReadOnly !== true) fail("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (opts.Propagation !== 'rprivate') {
      fail("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
  }
  return mount;
}

/** `filepath.Abs` against an explicit cwd (lexical, like Go's). */
export function absolute(cwd: string, p: string): string {
  if (p.startsWith('/')) return p;
  const joined = `${cwd.replace(/\/+$/, '')}/${p}`;
  // Lexical clean without resolving symlinks, as Go's filepath.Abs does.
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** docker/cli's `--tmpfs DST[:OPTS]`: split at the first colon; the daemon validates. */
export function parseTmpfsFlag(value: string): { destination: string; options: string } {
  const colon = value.indexOf(':');
  return colon < 0 ? { destination: value, options: '' } : { destination: value.slice(0, colon), options: value.slice(colon + 1) };
}
