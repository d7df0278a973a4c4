/**
 * The contract between the launch (`Runtime`) and whoever drives container
 * lifecycles (the supervisor, the bench, a library user).
 */

/** Docker Engine API `Config` of a container (the fields berth reads; others are ignored). */
export interface ContainerConfig {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string | null;
  User?: string | null;
  Hostname?: string | null;
  Volumes?: Record<string, object> | null;
  Labels?: Record<string, string> | null;
  Image?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  [key: string]: unknown;
}

/** Docker Engine API `HostConfig` (the fields berth reads; others are ignored). */
export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: unknown[] | null;
  Tmpfs?: Record<string, string> | null;
  VolumesFrom?: string[] | null;
  ReadonlyRootfs?: boolean;
  NetworkMode?: string;
  Memory?: number;
  MemorySwap?: number;
  PidsLimit?: number | null;
  NanoCpus?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpuShares?: number;
  Init?: boolean | null;
  AutoRemove?: boolean;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  [key: string]: unknown;
}

/** File descriptors (opened by the caller, in the caller's process) for the container's stdio. */
export interface StdioFds {
  stdin?: number;
  /** With `Config.Tty`, the terminal's output lands here (stderr is unused: a terminal has one output). */
  stdout: number;
  stderr: number;
  /**
   * With `Config.Tty`: a file holding "ROWS COLS", read by the init at start
   * and again each time it gets SIGWINCH (how a resize reaches the terminal).
   */
  terminalSize?: number;
}

export interface StartRequest {
  /** 64 hex characters. */
  id: string;
  /** Image reference or id known to the layer store. */
  image: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  stdio: StdioFds;
  /**
   * Host file the container init writes its final status line to. It is how
   * an exit status survives the death of the supervisor.
   */
  statusPath: string;
  /**
   * The mounts of this container's previous start: an anonymous volume at
   * the same destination is reused, so a restarted container keeps its data.
   */
  previousMounts?: MountPoint[];
  /** Resolve `--volumes-from` references to another container's mounts. */
  volumesFrom?: (ref: string) => MountPoint[];
  /**
   * A network namespace configured by the caller (netavark, in
   * @berth/networks) before anything of the container runs. Without it a
   * private namespace has loopback only (or the host's, `--network host`).
   */
  network?: NetworkHook;
  /** `--network container:<id>`: the path of that container's network namespace (`/proc/<pid>/ns/net`), joined as is. */
  joinNetwork?: string;
}

/**
 * The launch's network hook. The runtime makes a fresh network namespace
 * (loopback up), holds it open and names it by a path (`/proc/<pid>/fd/N`)
 * that stays valid until `teardown` has returned, even after the container
 * exited; after a crash of its holder, the caller tears down from its own
 * records (`NetworkAttachments.reconcile`).
 */
export interface NetworkHook {
  /** Configure the namespace; the files returned are bound over the container's own, as Docker does. */
  setup(netnsPath: string): Promise<NetworkFiles>;
  /** The container exited (or its launch failed): undo `setup` while the namespace is still held. */
  teardown(netnsPath: string): Promise<void>;
}

/** Host files bound in at `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname` (each optional). */
export interface NetworkFiles {
  hosts?: string;
  resolvConf?: string;
  hostname?: string;
}

/** A mount as the Docker API shows it in container inspect `Mounts[]`. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ExitStatus {
  /** The exit code; 128+N for signal N; 126/127 when the command could not be run; 125 when berth failed. */
  exitCode: number;
  signal?: string;
  /** Set when the command never ran (`exec-failed ...`, `setup-failed ...`). */
  error?: string;
  oomKilled: boolean;
}

export interface StartedContainer {
  id: string;
  pid: number;
  /** Process start time in clock ticks (/proc/PID/stat field 22): pid + start time identify it across restarts. */
  startTime: number;
  mounts: MountPoint[];
  /** Milliseconds the worker spent in the namespace and mount sequence. */
  setupMs: number;
  /** Names of anonymous volumes created for this container (removed by `rm -v` / `--rm`). */
  anonymousVolumes: string[];
  /** Resolves when the container's init has exited and its status is known. */
  exited: Promise<ExitStatus>;
}

/** `docker exec`: run one more process in a running container. */
export interface ExecRequest {
  /** The container's id (its cgroup, when it has one, takes the process too). */
  id: string;
  /** The container's init, identified by pid and start time (as StartedContainer gives them). */
  pid: number;
  startTime: number;
  image: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  exec: { Cmd: string[]; Env?: string[] | null; User?: string; WorkingDir?: string; Tty?: boolean };
  stdio: StdioFds;
  /** Host file the exec's status line goes to (as StartRequest.statusPath). */
  statusPath: string;
}

export interface StartedExec {
  /** The helper that joined the container's namespaces and waits for the command (a host process). */
  pid: number;
  startTime: number;
  exited: Promise<ExitStatus>;
}
