import { MountSpecError } from '../errors.js';
import { checkApiFields } from './api-fields.js';
import { absolute, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from './cli-flags.js';
import { mountSpecFromConfig, parseBind, parseVolumesFrom } from './daemon-parse.js';
import { goIsAbs, goPathClean } from './go-compat.js';
import { mergeTmpfsOptions, TMPFS_DEFAULT_OPTIONS } from './tmpfs-options.js';
import type { ApiMount, ApiMountFields, CliMountFlags, MountSpec, ResolveOptions } from './types.js';

/** The create-body fields the docker CLI sends for the mount flags. */
export interface CliApiFields {
  Config: { Volumes: Record<string, Record<string, never>> };
  HostConfig: {
    Binds: string[];
    Mounts: ApiMount[];
    Tmpfs: Record<string, string>;
    VolumesFrom: string[];
    ReadonlyRootfs: boolean;
    VolumeDriver?: string;
  };
}

/**
 * What the docker CLI does with `-v`, `--mount`, `--tmpfs`, `--volumes-from`
 * and `--read-only` before it calls the API: `-v name:/d` and `-v /h:/d` go
 * to `Binds` (a `./h` source made absolute against `cwd`), `-v /anon` to
 * `Config.Volumes`, `--mount` to `Mounts` objects, `--tmpfs` to the `Tmpfs` map.
 * Throws MountSpecError with the CLI's own messages.
 */
export function cliToApiFields(flags: CliMountFlags, options: { cwd: string }): CliApiFields {
  const out: CliApiFields = {
    Config: { Volumes: {} },
    HostConfig: { Binds: [], Mounts: [], Tmpfs: {}, VolumesFrom: [...(flags.volumesFrom ?? [])], ReadonlyRootfs: flags.readOnly === true },
  };
  if (flags.volumeDriver !== undefined && flags.volumeDriver !== '') out.HostConfig.VolumeDriver = flags.volumeDriver;
  // The CLI keeps -v values in a set: the same value twice is one mount.
  for (const spec of new Set(flags.volume ?? [])) {
    const parsed = parseVolumeFlag(spec);
    if (parsed.source === '') {
      out.Config.Volumes[spec] = {};
      continue;
    }
    let bind = spec;
    const colon = spec.indexOf(':');
    if (parsed.type === 'bind' && colon >= 0) {
      const host = spec.slice(0, colon);
      if (host.startsWith('.')) bind = `${absolute(options.cwd, host)}${spec.slice(colon)}`;
    }
    out.HostConfig.Binds.push(bind);
  }
  for (const value of flags.mount ?? []) out.HostConfig.Mounts.push(parseMountFlag(value, options.cwd));
  for (const value of flags.tmpfs ?? []) {
    const { destination, options: opts } = parseTmpfsFlag(value);
    out.HostConfig.Tmpfs[destination] = opts;
  }
  return out;
}

const duplicate = (dest: string): MountSpecError =>
  new MountSpecError('duplicate-mount-point', `Duplicate mount point: ${dest}`, dest);

/** Docker's mount order key: the number of path components of the destination. */
function depth(destination: string): number {
  return goPathClean(destination).split('/').length;
}

/**
 * The daemon side: a create body's mount fields (`Config.Volumes`,
 * `HostConfig.Binds/Mounts/Tmpfs/VolumesFrom/VolumeDriver`) as one ordered
 * list. Registration order is Docker's (volumes-from, binds, mounts, tmpfs,
 * then anonymous volumes for `Config.Volumes` and the image's `VOLUME`s not
 * covered by a mount), then a stable sort by destination depth so `/etc` is
 * mounted before `/etc/resolv.conf`. Pure: no volume is created and no path
 * is looked at. Throws MountSpecError only (the `volumesFrom` resolver's own
 * exceptions pass through).
 */
export function resolveMounts(fields: ApiMountFields | unknown, options: ResolveOptions = {}): MountSpec[] {
  const api = checkApiFields(fields);
  const byDest = new Map<string, MountSpec>();
  const userDests = new Set<string>();
  const tmpfsDests = new Set(api.tmpfs.map(([dest]) => goPathClean(dest)));

  for (const ref of api.volumesFrom) {
    const { container, readOnly } = parseVolumesFrom(ref);
    const mounts = options.volumesFrom?.(container);
    if (mounts === undefined) throw new MountSpecError('no-such-container', `No such container: ${container}`, container);
    for (const m of mounts) {
      if (m.type === 'tmpfs') continue;
      // Borrowed volumes are never copied into and never this container's to remove.
      byDest.set(m.destination, {
        ...m, readOnly: m.readOnly || readOnly, nocopy: true, createSource: false,
        anonymous: false, fromContainer: container,
      });
    }
  }

  for (const raw of api.binds) {
    const spec = parseBind(raw, api.volumeDriver);
    if (userDests.has(spec.destination) || tmpfsDests.has(spec.destination)) throw duplicate(spec.destination);
    userDests.add(spec.destination);
    byDest.delete(spec.destination);
    byDest.set(spec.destination, spec);
  }

  for (const m of api.mounts) {
    const spec = mountSpecFromConfig(m, api.volumeDriver, false);
    if (userDests.has(spec.destination) || tmpfsDests.has(spec.destination)) throw duplicate(m.Target ?? '');
    userDests.add(spec.destination);
    byDest.delete(spec.destination);
    byDest.set(spec.destination, spec);
  }

  for (const [dest, opts] of api.tmpfs) {
    const spec = tmpfsSpec(dest, opts);
    if (userDests.has(spec.destination)) throw duplicate(spec.destination);
    userDests.add(spec.destination);
    byDest.delete(spec.destination);
    byDest.set(spec.destination, spec);
  }

  const containerVolumes = new Set(api.volumes);
  for (const raw of [...api.volumes, ...(options.imageVolumes ?? [])]) {
    const destination = goPathClean(raw);
    checkAnonymousDestination(raw, destination);
    // Covered by a mount (or listed twice): Docker skips it silently.
    if (byDest.has(destination)) continue;
    const spec: MountSpec = {
      type: 'volume', source: '', destination, readOnly: false, propagation: 'rprivate', recursive: 'enabled',
      createSource: false, nocopy: false, anonymous: true,
    };
    if (api.volumeDriver !== '') spec.volumeDriver = api.volumeDriver;
    if (!containerVolumes.has(raw)) spec.fromImage = true;
    byDest.set(destination, spec);
  }

  // Array.prototype.sort is stable: equal depths keep registration order.
  return [...byDest.values()].sort((a, b) => depth(a.destination) - depth(b.destination));
}

function checkAnonymousDestination(raw: string, destination: string): void {
  const fail = (cause: string): never => {
    throw new MountSpecError('invalid-mount-config', `invalid mount config for type "volume": ${cause}`, raw);
  };
  if (destination === '/') fail("invalid specification: destination can't be '/'");
  if (!goIsAbs(raw)) fail(`invalid mount path: '${raw}' mount path must be absolute`);
}

/** One `HostConfig.Tmpfs` entry: moby's destination checks, then its option merge. */
function tmpfsSpec(dest: string, opts: string): MountSpec {
  if (goPathClean(dest) === '/') {
    throw new MountSpecError('invalid-tmpfs', "invalid specification: destination can't be '/'", dest);
  }
  if (!goIsAbs(dest)) {
    throw new MountSpecError('invalid-tmpfs', `invalid mount path: '${dest}' mount path must be absolute`, dest);
  }
  const list = opts === '' ? [] : opts.split(',');
  const merged = mergeTmpfsOptions([...TMPFS_DEFAULT_OPTIONS, ...list]);
  const spec: MountSpec = {
    type: 'tmpfs', source: '', destination: goPathClean(dest), readOnly: merged.includes('ro'),
    propagation: 'rprivate', recursive: 'enabled', createSource: false, nocopy: false, anonymous: false, unlisted: true,
  };
  if (list.length > 0) spec.tmpfsOptions = list;
  return spec;
}
