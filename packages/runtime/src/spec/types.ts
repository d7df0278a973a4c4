/**
 * Mount specifications as plain data. The CLI turns flags into Docker API
 * fields (`cliToApiFields`), the daemon side turns API fields into one
 * ordered `MountSpec[]` (`resolveMounts`), so `docker run -v` and a Docker
 * client's `POST /containers/create` share a single path.
 */

export type MountType = 'bind' | 'volume' | 'tmpfs';

export type Propagation = 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';

/**
 * How a read-only bind treats the mounts below it (`--mount bind-recursive`).
 * - `enabled`: recursive bind; read-only applies recursively (Docker ≥ 25).
 * - `disabled`: plain, non-recursive bind (submounts are not visible).
 * - `writable`: recursive bind, but only the top mount is read-only.
 * - `readonly`: recursive bind, read-only forced recursively (fail if the kernel cannot).
 */
export type BindRecursive = 'enabled' | 'disabled' | 'writable' | 'readonly';

/** One mount a container asks for, before any volume is created or any path is touched. */
export interface MountSpec {
  type: MountType;
  /** Host path (bind), volume name (volume), '' for an anonymous volume or a tmpfs. */
  source: string;
  /** Absolute, cleaned path inside the container. */
  destination: string;
  readOnly: boolean;
  /** Bind propagation; volumes and tmpfs are always `rprivate`. */
  propagation: Propagation;
  recursive: BindRecursive;
  /** Create a missing bind source: always for `-v`, only with `bind-create-src` for `--mount`. */
  createSource: boolean;
  /** Do not copy the image's content into an empty volume. Always true for `--volumes-from`. */
  nocopy: boolean;
  /** `volume-subpath`: a relative path inside the volume, already checked to be local. */
  subpath?: string;
  /** Labels for a volume created by this mount (`volume-label`). */
  volumeLabels?: Record<string, string>;
  /** Volume driver (`volume-driver`, or `HostConfig.VolumeDriver`). */
  volumeDriver?: string;
  /** Driver options (`volume-opt`) for a volume created by this mount. */
  volumeOptions?: Record<string, string>;
  /** tmpfs size in bytes (`tmpfs-size`, `TmpfsOptions.SizeBytes`). */
  tmpfsSizeBytes?: number;
  /** tmpfs root mode (`tmpfs-mode`, `TmpfsOptions.Mode`). */
  tmpfsMode?: number;
  /** Further tmpfs options (`--tmpfs /d:OPTS` split on commas, or `TmpfsOptions.Options`). */
  tmpfsOptions?: string[];
  /** The container whose mount this is (`--volumes-from`). */
  fromContainer?: string;
  /** True when this mount exists only because the image declares the `VOLUME`. */
  fromImage?: boolean;
  /** An anonymous volume: berth picks a 64-hex name; removed with the container by `--rm`/`rm -v`. */
  anonymous: boolean;
  /** SELinux relabel request from `-v ...:z|Z` (accepted; berth does no relabelling). */
  selinux?: 'z' | 'Z';
  /** Docker's `Mode` text for inspect (`-v`'s mode list, `z` for a named volume); absent when empty. */
  mode?: string;
  /** A `HostConfig.Tmpfs` mount: mounted, but not listed in inspect's `Mounts` (as Docker). */
  unlisted?: true;
}

/** `HostConfig.Mounts[].BindOptions` of the Docker API. */
export interface ApiBindOptions {
  Propagation?: string;
  NonRecursive?: boolean;
  CreateMountpoint?: boolean;
  ReadOnlyNonRecursive?: boolean;
  ReadOnlyForceRecursive?: boolean;
}

/** `HostConfig.Mounts[].VolumeOptions` of the Docker API. */
export interface ApiVolumeOptions {
  NoCopy?: boolean;
  Labels?: Record<string, string>;
  Subpath?: string;
  DriverConfig?: { Name?: string; Options?: Record<string, string> };
}

/** `HostConfig.Mounts[].TmpfsOptions` of the Docker API. `Options` are `[flag]` or `[key, value]` pairs. */
export interface ApiTmpfsOptions {
  SizeBytes?: number;
  Mode?: number;
  Options?: string[][];
}

/** One `HostConfig.Mounts` entry, as the docker CLI sends it for `--mount`. */
export interface ApiMount {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: ApiBindOptions;
  VolumeOptions?: ApiVolumeOptions;
  TmpfsOptions?: ApiTmpfsOptions;
  /** Image mounts (`type=image`) parse, but berth refuses them when resolving. */
  ImageOptions?: { Subpath?: string };
}

/** The mount-related `HostConfig` fields of a create request. */
export interface ApiHostConfigMounts {
  Binds?: string[] | null;
  Mounts?: ApiMount[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  VolumeDriver?: string;
  ReadonlyRootfs?: boolean;
}

/**
 * The mount-related fields of a Docker create body: `Config.Volumes` and the
 * `HostConfig` fields. A full create body can be passed as is; other keys are ignored.
 */
export interface ApiMountFields {
  Config?: { Volumes?: Record<string, unknown> | null } | null;
  HostConfig?: ApiHostConfigMounts | null;
}

/** The values of the docker CLI's mount flags, one array entry per occurrence. */
export interface CliMountFlags {
  /** `-v` / `--volume` */
  volume?: readonly string[];
  /** `--mount` */
  mount?: readonly string[];
  /** `--tmpfs` */
  tmpfs?: readonly string[];
  /** `--volumes-from` */
  volumesFrom?: readonly string[];
  /** `--read-only` */
  readOnly?: boolean;
  /** `--volume-driver` */
  volumeDriver?: string;
}

/** Daemon-side context for `resolveMounts`. */
export interface ResolveOptions {
  /**
   * A container's mounts for `--volumes-from` (volume sources are the volume
   * names, never ''), or undefined when no such container exists.
   */
  volumesFrom?: (ref: string) => readonly MountSpec[] | undefined;
  /** The image config's `Volumes` keys: each becomes an anonymous volume unless a mount covers it. */
  imageVolumes?: readonly string[];
}
