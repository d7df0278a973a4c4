/**
 * The launch plan: everything a launch does, as JSON-serialisable data.
 * `planLaunch` computes it without touching anything; the executor (on a
 * worker thread) and the container init apply it. Paths inside the
 * container are absolute (`/data`) and must be resolved *inside* the
 * rootfs by the executor (openat2 RESOLVE_IN_ROOT), never joined as strings.
 */
import type { CgroupLimits } from '../cgroups/limits.js';
import type { DeviceMapping, DeviceRule, HostDevices, PlannedDevice } from './devices.js';
import type { MountSpec, MountType } from '../spec/types.js';
import type { ResolvedSecurity, Sysctl, Ulimit } from '../security/types.js';

/** A mount as the layer store hands it out (containerd's `Mount`). */
export interface RootfsMount {
  type: string;
  source: string;
  /** Host path of the container's root (`<root>/containers/<id>/mnt`). */
  target: string;
  options: readonly string[];
}

/**
 * The container `Config` fields the plan reads: the stored, resolved
 * Config (the image's merged in at create; see container/resolve.ts).
 */
export interface PlanContainerConfig {
  Cmd?: readonly string[] | null;
  Entrypoint?: readonly string[] | null;
  Env?: readonly string[] | null;
  WorkingDir?: string | null;
  User?: string | null;
  Hostname?: string | null;
  Tty?: boolean | null;
}

/** The `HostConfig` fields of a Docker create body that the plan reads. 0 and null mean "unset", as in Docker. */
export interface PlanHostConfig {
  /** '' | 'default' | 'none' give a private network namespace with loopback; 'host' keeps the host's; a network (`bridge` too) needs `networkProvided`. */
  NetworkMode?: string | null;
  Memory?: number | null;
  MemorySwap?: number | null;
  MemoryReservation?: number | null;
  CpusetCpus?: string | null;
  CpusetMems?: string | null;
  PidsLimit?: number | null;
  NanoCpus?: number | null;
  CpuQuota?: number | null;
  CpuPeriod?: number | null;
  CpuShares?: number | null;
  Init?: boolean | null;
  ReadonlyRootfs?: boolean | null;
  /** null: Docker's defaults; [] : none. */
  MaskedPaths?: readonly string[] | null;
  /** null: Docker's defaults; [] : none. */
  ReadonlyPaths?: readonly string[] | null;
  /** /dev/shm's size in bytes; 0 or absent: Docker's 64 MiB. */
  ShmSize?: number | null;
  /** `--device`: host device nodes made in the container, with their cgroup access. */
  Devices?: readonly DeviceMapping[] | null;
  /** `--device-cgroup-rule`: `c 1:3 rwm`, Docker's syntax. */
  DeviceCgroupRules?: readonly string[] | null;
  /** Every device allowed and present, /sys writable, nothing masked (capabilities and seccomp: the security plan). */
  Privileged?: boolean | null;
  /** '' (a new one), 'host', or 'container:<id|name>'. */
  PidMode?: string | null;
  /** '' | 'private' | 'shareable' | 'none' (a new one; 'none' without /dev/shm), 'host', or 'container:<id|name>'. */
  IpcMode?: string | null;
  /** '' (a new one) or 'host'; Docker has no container mode for UTS. */
  UTSMode?: string | null;
}

/**
 * For `container:<id|name>` namespace modes: the pid of a process of the
 * named container (its init), which the caller resolved and checked is
 * running. The plan joins `/proc/<pid>/ns/<kind>` of it.
 */
export interface NamespaceDonors {
  pid?: number;
  ipc?: number;
}

/** A MountSpec after the caller created or found what backs it. */
export interface ResolvedMount {
  spec: MountSpec;
  /** Host path: the volume's `_data` dir, the bind source; anything (e.g. 'tmpfs') for a tmpfs. */
  source: string;
  /** The volume's name (the generated one for an anonymous volume). */
  volumeName?: string;
  /** The caller's stat of the source; a file bind gets a file mount point. Default: a directory. */
  sourceIsFile?: boolean;
  anonymous?: boolean;
  /** One of the name files (/etc/hosts, resolv.conf, hostname) a network hook provides: not listed in `Mounts`. */
  networkFile?: boolean;
}

export interface PlanInput {
  /** 64 hex characters. */
  containerId: string;
  /** The resolved Config (image merged in at create). */
  config: PlanContainerConfig;
  hostConfig: PlanHostConfig;
  /** In the order `resolveMounts` returned them (sorted by destination depth). */
  mounts: readonly ResolvedMount[];
  rootfs: RootfsMount;
  /** Host path of the berth-init binary (the shim, spawned into the namespaces). */
  initPath: string;
  /** Host path of the init `HostConfig.Init` binds at /sbin/docker-init (default: Debian's /usr/bin/tini-static). */
  initBinary?: string;
  /** Cgroup parent; '' or absent for the runtime's default. */
  cgroupParent?: string;
  /** v1: the runtime's resolved parent per hierarchy (`Cgroups.v1Parents`), so every thread places containers where it looks for them. */
  cgroupV1Parents?: Readonly<Record<string, string>>;
  /** Online CPUs, to refuse a NanoCpus beyond them as Docker does (unchecked when absent). */
  hostCpus?: number;
  /** The host's device nodes (`--device`, `--privileged`); needed only when those are used. */
  hostDevices?: HostDevices;
  /** The containers whose namespaces `container:` modes join; needed only for those modes. */
  namespaceDonors?: NamespaceDonors;
  /**
   * The container's security settings, resolved at create (`resolveSecurity`).
   * Absent: Docker's defaults (default capabilities, masked paths from
   * HostConfig or Docker's, no seccomp file; callers that launch pass it).
   */
  security?: ResolvedSecurity;
  /** The compiled seccomp filter for `security` (`SeccompCache.pathFor`); absent: unconfined. */
  seccompPath?: string;
  /** The caller provides the network namespace (a bridge network's hook, or `container:<id>`). */
  networkProvided?: boolean;
  /** Docker's legacy link variables (`--link` on the default bridge), before the container's own `Env`. */
  linkEnv?: readonly string[];
}

/** A user mount (bind, volume or tmpfs), ready for the executor. */
export interface PlannedMount {
  /** What to mount: a bind of `source`, or a fresh tmpfs. Volumes are binds of their data dir. */
  kind: 'bind' | 'tmpfs';
  /** What the user asked for. */
  type: MountType;
  /** Host path for a bind (volume data dir, bind source), 'tmpfs' for a tmpfs. */
  source: string;
  /** Absolute path inside the container; resolve it inside the rootfs. */
  destination: string;
  /** MS_* flags of the initial mount(2): MS_BIND[|MS_REC] for a bind, the tmpfs flags (incl. MS_RDONLY) for a tmpfs. */
  flags: number;
  /** mount(2) data: tmpfs options (`size=65536k,mode=755`), null for a bind. */
  data: string | null;
  /** Bind the whole tree below the source (MS_REC / AT_RECURSIVE); false for `bind-recursive=disabled`. */
  recursive: boolean;
  readOnly: boolean;
  /** Read-only applies to every submount too (mount_setattr AT_RECURSIVE): `ro` unless `bind-recursive=writable`. */
  recursiveReadOnly: boolean;
  /** `bind-recursive=readonly`: fail rather than fall back when recursive read-only is impossible. */
  requireRecursiveReadOnly: boolean;
  /** MS_PRIVATE, MS_SLAVE or MS_SHARED (without MS_REC). */
  propagation: number;
  /** Whether propagation applies to submounts too (the `r` modes). */
  propagationRecursive: boolean;
  /** Create a missing bind source first (`-v`); a `--mount` bind without `bind-create-src` must exist. */
  createSource: boolean;
  /** The source is a file: the mount point is created as a file. Filled from the caller's stat. */
  sourceIsFile: boolean;
  /** `volume-subpath`: resolve beneath `source` without symlinks, then bind that. */
  subpath?: string;
  /**
   * Copy the image's content at `destination` into the volume if the volume
   * is empty and the image has a directory there (Docker's copy-up). Absent
   * for binds, tmpfs, `nocopy` and `--volumes-from` mounts.
   */
  copyUp?: {
    volume: string;
    /** True when the volume exists because the image declares this `VOLUME`. */
    fromImage: boolean;
  };
  volumeName?: string;
  anonymous: boolean;
  /** Set for mounts borrowed through `--volumes-from`. */
  fromContainer?: string;
}

/** A character device node in the container's default /dev. */
export interface DeviceNode {
  /** Name below /dev. */
  name: string;
  major: number;
  minor: number;
  /** Permission bits (without S_IFCHR). */
  mode: number;
  uid: number;
  gid: number;
}

/** A filesystem mounted below /dev (pts, shm, mqueue). */
export interface DevSubMount {
  /** Name below /dev. */
  name: string;
  /** Filesystem type and mount(2) source. */
  fstype: 'devpts' | 'tmpfs' | 'mqueue';
  flags: number;
  data: string | null;
}

/**
 * The minimal /dev, in the order to make it: the tmpfs, device nodes,
 * sub-mounts, symlinks. Sub-mounts a user mount replaces (e.g. `--tmpfs
 * /dev/shm`) are left out, as Docker does.
 */
export interface DevPlan {
  /** The tmpfs mounted on /dev. */
  tmpfs: { flags: number; data: string };
  devices: DeviceNode[];
  mounts: DevSubMount[];
  symlinks: Array<{ name: string; target: string }>;
}

/** A kernel filesystem at a fixed place (sysfs on /sys, proc on /proc). */
export interface SystemMount {
  destination: string;
  fstype: string;
  flags: number;
}

/** A capability set (Docker's default one unless CapAdd/CapDrop/Privileged say otherwise). */
export interface CapabilitySet {
  names: string[];
  numbers: number[];
  /** Bit mask of `numbers` (0xa80425fb for Docker's default set). */
  mask: number;
}

/** Cgroup limits, the cgroups module's own shape; an absent field means unlimited (Docker's 0). */
export type PlannedLimits = CgroupLimits;

export interface LaunchPlan {
  containerId: string;
  /**
   * CLONE_NEW* flags the launching thread unshares: mnt, uts, ipc, and net
   * unless `network` is 'host'. (A thread also needs CLONE_FS.) Never the
   * pid namespace: the shim makes that one (`pidNamespace`), so that its
   * child, not the shim, is PID 1.
   */
  namespaces: number;
  /**
   * The shim's `--pidns`: 'new' makes the command PID 1 of a new pid
   * namespace; 'host' keeps the host's (`--pid host`); an nsfs path joins
   * another container's (`--pid container:X`).
   */
  pidNamespace: 'new' | 'host' | `/proc/${number}/ns/pid`;
  /** 'none': a new network namespace with only loopback; 'host': the host's. */
  network: 'none' | 'host';
  rootfs: RootfsMount;
  /** User mounts, in mount order (parents before children), applied after /dev and /sys. */
  mounts: PlannedMount[];
  dev: DevPlan;
  /** sysfs, read-only. */
  sys: SystemMount;
  /** Where and how the init mounts /proc (it must: only a process inside the pid namespace can). */
  proc: SystemMount;
  /** Paths the init hides (/dev/null over files, an empty read-only tmpfs over directories). */
  maskedPaths: string[];
  /** Paths the init remounts read-only. */
  readonlyPaths: string[];
  hostname: string;
  /** KEY=VALUE, Docker's order: PATH, HOSTNAME, [TERM], then the merged container/image env. */
  env: string[];
  /** Absolute working directory inside the container. */
  cwd: string;
  /** `user[:group]` as given (names or ids); '' is root. Resolved by the init against the container's /etc/passwd. */
  user: string;
  process: {
    /** argv: Entrypoint + Cmd after Docker's merge rules. */
    args: string[];
    tty: boolean;
  };
  /**
   * `HostConfig.Init`: docker-init (tini) is PID 1; it is bound read-only at
   * /sbin/docker-init (the last of `mounts`) and `process.args` starts with
   * `/sbin/docker-init --`.
   */
  init: boolean;
  limits: PlannedLimits;
  /** Remount the rootfs read-only after the mounts (`--read-only`); user mounts keep their own mode. */
  readonlyRootfs: boolean;
  capabilities: CapabilitySet;
  /** `--privileged`: all capabilities, no seccomp, nothing masked or read-only, /sys writable, every device (`devices`, `deviceRules`). */
  privileged: boolean;
  /** Set no_new_privs before exec (`--security-opt no-new-privileges`); off by default, as in Docker. */
  noNewPrivileges: boolean;
  /** The compiled BPF filter the stub loads with seccomp(2); absent: unconfined. */
  seccomp?: { path: string };
  /** `--group-add`: names (looked up in the container's /etc/group) or numeric gids. */
  groupAdd: string[];
  /** Written to /proc/self/oom_score_adj by the stub; 0: left alone. */
  oomScoreAdj: number;
  /** setrlimit before exec, in order; -1 is RLIM_INFINITY. */
  rlimits: Ulimit[];
  /** Written under /proc/sys inside the container's namespaces, in order. */
  sysctls: Sysctl[];
  initPath: string;
  /** '' for the runtime's default parent. */
  cgroupParent: string;
  /** v1: the runtime's resolved parent per hierarchy ({} on v2, or with `cgroupParent`). */
  cgroupV1Parents: Readonly<Record<string, string>>;
  /** Device nodes made after the mounts (`--device`; every host device with `--privileged`), at their container paths. */
  devices: PlannedDevice[];
  /** The device cgroup, in order: Docker's deny-all and defaults, then `--device` and `--device-cgroup-rule`. */
  deviceRules: DeviceRule[];
  /**
   * Namespaces joined instead of made (`--pid container:X`, `--ipc container:X`):
   * a path to an nsfs file, opened by the executor and setns-ed into before
   * it unshares the rest. A kind here is never in `namespaces`.
   */
  joinNamespaces: JoinNamespaces;
  /**
   * Where /dev/shm comes from when it is not the container's own tmpfs
   * (`dev.mounts` then has no shm): `{ mountNamespace }` another
   * container's (`--ipc container:X`, an nsfs path), `{}` the host's
   * (`--ipc host`). Absent: the container's own, or none (`--ipc none`).
   */
  sharedShm?: { mountNamespace?: string };
}

/** nsfs paths (`/proc/<pid>/ns/<kind>`) of namespaces to join. */
export interface JoinNamespaces {
  ipc?: string;
  uts?: string;
  net?: string;
}

/** `docker exec`'s options (the API's ExecConfig, the fields berth uses). */
export interface ExecOptions {
  Cmd: readonly string[];
  Env?: readonly string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
}

export interface ExecInput {
  containerId: string;
  /** The container's resolved Config. */
  config: PlanContainerConfig;
  exec: ExecOptions;
  /** The container's resolved security settings (the exec runs under the same capabilities, seccomp, groups). */
  security?: ResolvedSecurity;
  /** The container's compiled seccomp filter; absent: unconfined. */
  seccompPath?: string;
  /** Docker's legacy link variables, as at the container's start (dockerd's exec gets them too). */
  linkEnv?: readonly string[];
}

/** What the init's exec mode is given: run `args` in the container, as `user`, from `cwd`, with `env`. */
export interface ExecPlan {
  args: string[];
  env: string[];
  user: string;
  cwd: string;
  tty: boolean;
  capabilities: CapabilitySet;
  noNewPrivileges: boolean;
  seccomp?: { path: string };
  groupAdd: string[];
}
