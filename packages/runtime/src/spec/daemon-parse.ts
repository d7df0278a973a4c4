// The daemon side of Docker's mount parsing (moby daemon/volume/mounts/
// linux_parser.go): `HostConfig.Binds` strings and `HostConfig.Mounts`
// objects become MountSpecs, with moby's checks and messages.

import { MountSpecError } from '../errors.js';
import { goIsAbs, goIsLocal, goPathClean } from './go-compat.js';
import { mergeTmpfsOptions, tmpfsUserOptions } from './tmpfs-options.js';
import type { ApiMount, BindRecursive, MountSpec, Propagation } from './types.js';

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION_MODES = new Set<string>(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);

export function isPropagation(value: string): value is Propagation {
  return PROPAGATION_MODES.has(value);
}

/** moby `ValidMountMode`: comma-separated, known words only, at most one of each class. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const cls = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION_MODES.has(o) ? 2 : COPY_MODES.has(o) ? 3
      : CONSISTENCY_MODES.has(o) ? 4 : -1;
    if (cls < 0) return false;
    counts[cls] = (counts[cls] ?? 0) + 1;
  }
  return counts.every((n) => n <= 1);
}

/** moby `ReadWrite`: a valid mode without `ro`. */
export function modeIsReadWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

/** Options of a mount object in the shape moby validates. */
type MountConfig = ApiMount;

const configError = (mnt: MountConfig, cause: string): MountSpecError =>
  new MountSpecError('invalid-mount-config', `invalid mount config for type ${JSON.stringify(mnt.Type)}: ${cause}`);

function validateTarget(mnt: MountConfig): void {
  const target = mnt.Target ?? '';
  if (target === '') throw configError(mnt, 'field Target must not be empty');
  if (goPathClean(target) === '/') throw configError(mnt, "invalid specification: destination can't be '/'");
  if (!goIsAbs(target)) throw configError(mnt, `invalid mount path: '${target}' mount path must be absolute`);
}

/** moby `validateMountConfigImpl` without the bind-source existence check (the executor does that). */
export function validateMountConfig(mnt: MountConfig): void {
  validateTarget(mnt);
  const source = mnt.Source ?? '';
  switch (mnt.Type) {
    case 'bind': {
      if (source === '') throw configError(mnt, 'field Source must not be empty');
      const propagation = mnt.BindOptions?.Propagation ?? '';
      if (propagation !== '' && !isPropagation(propagation)) {
        throw configError(mnt, `invalid propagation mode: ${propagation}`);
      }
      if (mnt.VolumeOptions !== undefined) throw configError(mnt, 'field VolumeOptions must not be specified');
      if (mnt.ImageOptions !== undefined) throw configError(mnt, 'field ImageOptions must not be specified');
      if (!goIsAbs(source)) throw configError(mnt, `invalid mount path: '${source}' mount path must be absolute`);
      const opts = mnt.BindOptions;
      if (opts?.ReadOnlyNonRecursive === true && opts.ReadOnlyForceRecursive === true) {
        throw configError(mnt, 'ReadOnlyNonRecursive and ReadOnlyForceRecursive are mutually exclusive');
      }
      return;
    }
    case 'volume': {
      if (mnt.BindOptions !== undefined) throw configError(mnt, 'field BindOptions must not be specified');
      if (mnt.ImageOptions !== undefined) throw configError(mnt, 'field ImageOptions must not be specified');
      const anonymous = source === '';
      const subpath = mnt.VolumeOptions?.Subpath ?? '';
      if (subpath !== '') {
        if (anonymous) throw configError(mnt, 'must not set Subpath when using anonymous volumes');
        if (!goIsLocal(subpath)) throw configError(mnt, 'subpath must be a relative path within the volume');
      }
      if (mnt.ReadOnly === true && anonymous) {
        throw configError(mnt, 'must not set ReadOnly mode when using anonymous volumes');
      }
      return;
    }
    case 'tmpfs':
      if (mnt.BindOptions !== undefined) throw configError(mnt, 'field BindOptions must not be specified');
      if (mnt.ImageOptions !== undefined) throw configError(mnt, 'field ImageOptions must not be specified');
      if (source !== '') throw configError(mnt, 'field Source must not be specified');
      try {
        mergeTmpfsOptions(tmpfsUserOptions(tmpfsFields(mnt)));
      } catch (error) {
        if (error instanceof MountSpecError) throw configError(mnt, error.message);
        throw error;
      }
      return;
    case 'image':
      throw new MountSpecError('unsupported', `invalid mount config for type "image": image mounts are not supported by berth`);
    default:
      throw configError(mnt, 'mount type unknown');
  }
}

function tmpfsFields(mnt: MountConfig): Parameters<typeof tmpfsUserOptions>[0] {
  const t = mnt.TmpfsOptions;
  const out: Parameters<typeof tmpfsUserOptions>[0] = { readOnly: mnt.ReadOnly === true };
  if (t?.Mode !== undefined) out.tmpfsMode = t.Mode;
  if (t?.SizeBytes !== undefined) out.tmpfsSizeBytes = t.SizeBytes;
  if (t?.Options !== undefined) out.tmpfsOptions = t.Options.map((kv) => kv.join('='));
  return out;
}

function recursiveOf(mnt: MountConfig): BindRecursive {
  const o = mnt.BindOptions;
  if (o?.NonRecursive === true) return 'disabled';
  if (o?.ReadOnlyNonRecursive === true) return 'writable';
  if (o?.ReadOnlyForceRecursive === true) return 'readonly';
  return 'enabled';
}

/**
 * moby `parseMountSpec`: a validated mount object as a MountSpec. `fromBinds`
 * marks a `-v` bind, whose missing source is created (a `--mount` bind needs
 * `CreateMountpoint`).
 */
export function mountSpecFromConfig(mnt: MountConfig, volumeDriver: string, fromBinds: boolean): MountSpec {
  validateMountConfig(mnt);
  const type = mnt.Type as MountSpec['type'];
  const spec: MountSpec = {
    type,
    source: type === 'bind' ? goPathClean(mnt.Source ?? '') : (mnt.Source ?? ''),
    destination: goPathClean(mnt.Target ?? ''),
    readOnly: mnt.ReadOnly === true,
    propagation: 'rprivate',
    recursive: 'enabled',
    createSource: false,
    nocopy: false,
    anonymous: type === 'volume' && (mnt.Source ?? '') === '',
  };
  if (type === 'bind') {
    const p = mnt.BindOptions?.Propagation ?? '';
    if (isPropagation(p)) spec.propagation = p;
    spec.recursive = recursiveOf(mnt);
    spec.createSource = fromBinds || mnt.BindOptions?.CreateMountpoint === true;
  } else if (type === 'volume') {
    spec.mode = 'z';
    const v = mnt.VolumeOptions;
    spec.nocopy = v?.NoCopy === true;
    if (v?.Subpath !== undefined && v.Subpath !== '') spec.subpath = v.Subpath;
    if (v?.Labels !== undefined && Object.keys(v.Labels).length > 0) spec.volumeLabels = { ...v.Labels };
    const driver = v?.DriverConfig?.Name ?? '';
    if (driver !== '') spec.volumeDriver = driver;
    else if (volumeDriver !== '') spec.volumeDriver = volumeDriver;
    const options = v?.DriverConfig?.Options;
    if (options !== undefined && Object.keys(options).length > 0) spec.volumeOptions = { ...options };
  } else {
    Object.assign(spec, tmpfsFields(mnt));
  }
  return spec;
}

const invalidSpec = (raw: string, cause?: string): MountSpecError =>
  new MountSpecError(
    'invalid-volume-specification',
    `invalid volume specification: '${raw}'${cause === undefined ? '' : `: ${cause}`}`,
    raw,
  );

/** moby `ParseMountRaw` for one `HostConfig.Binds` entry (`-v` after the CLI). */
export function parseBind(raw: string, volumeDriver = ''): MountSpec {
  if ((raw.match(/:/g)?.length ?? 0) > 2) throw invalidSpec(raw);
  const arr = raw.split(':');
  if (arr[0] === '') throw invalidSpec(raw);
  const mnt: MountConfig = { Type: '' };
  let mode = '';
  const [first = '', second = '', third = ''] = arr;
  if (arr.length === 1) {
    mnt.Target = first;
  } else if (arr.length === 2) {
    // A destination plus a mode (`/foo:rw`) is not a valid volume.
    if (validMountMode(second)) throw invalidSpec(raw);
    mnt.Source = first;
    mnt.Target = second;
  } else {
    mnt.Source = first;
    mnt.Target = second;
    mode = third;
  }
  if (!validMountMode(mode)) throw invalidSpec(raw, `invalid mode: ${mode}`);

  mnt.Type = goIsAbs(mnt.Source ?? '') ? 'bind' : 'volume';
  mnt.ReadOnly = !modeIsReadWrite(mode);
  const words = mode === '' ? [] : mode.split(',');
  if (words.includes('nocopy')) mnt.VolumeOptions = { NoCopy: true };
  const propagation = words.find((w) => PROPAGATION_MODES.has(w));
  if (propagation !== undefined) mnt.BindOptions = { Propagation: propagation };

  let spec: MountSpec;
  try {
    spec = mountSpecFromConfig(mnt, volumeDriver, true);
  } catch (error) {
    if (error instanceof MountSpecError) throw invalidSpec(raw, error.message);
    throw error;
  }
  const label = words.find((w) => LABEL_MODES.has(w));
  if (label === 'z' || label === 'Z') spec.selinux = label;
  // Docker shows the mode list as given; a named volume without one says `z`.
  if (mode !== '') spec.mode = mode;
  else if (spec.type === 'volume') spec.mode = 'z';
  else delete spec.mode;
  return spec;
}

/** moby `ParseVolumesFrom`: `container[:mode]`, mode without propagation or copy options. */
export function parseVolumesFrom(spec: string): { container: string; readOnly: boolean } {
  if (spec === '') {
    throw new MountSpecError('invalid-volumes-from', 'volumes-from specification cannot be an empty string', spec);
  }
  const colon = spec.indexOf(':');
  const container = colon < 0 ? spec : spec.slice(0, colon);
  const mode = colon < 0 ? '' : spec.slice(colon + 1);
  if (mode === '') return { container, readOnly: false };
  const words = mode.split(',');
  if (!validMountMode(mode) || words.some((w) => PROPAGATION_MODES.has(w) || COPY_MODES.has(w))) {
    throw new MountSpecError('invalid-volumes-from', `invalid mode: ${mode}`, spec);
  }
  return { container, readOnly: !modeIsReadWrite(mode) };
}
