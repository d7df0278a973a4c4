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
   * With `Config.Tty`: a file holding "ROWS COLS", read by the shim at start,
   * each time a writer closes it, and each time the shim gets SIGWINCH: a
   * resize is a write of this file (rewritten in place, not renamed).
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
   * Host file the container's shim writes to: first where the container
   * runs (`shim SHIM_PID SHIM_START PID PID_START`, before it runs anything;
   * `Runtime.adopt` and `strayInits` read it), then its final status line.
   * It is how a container and its exit status survive the supervisor.
   */
  statusPath: string;
  /**
   * The mounts of this container's previous start: an anonymous volume at
   * the same destination is reused, so a restarted container keeps its data.
   */
  previousMounts?: MountPoint[];
  /** Resolve `--volumes-from` references to another container's mounts. */
  volumesFrom?: (ref: string) => MountPoint[];
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

/** A process identified across supervisor restarts: pid + start time (clock ticks, /proc/PID/stat field 22). */
export interface ProcessRef {
  pid: number;
  startTime: number;
}

export interface StartedContainer {
  id: string;
  /**
   * The container's PID 1 as the host sees it (Docker's `State.Pid`): what
   * stop and kill signal, and whose pid namespace `top` lists.
   */
  pid: number;
  /** Process start time in clock ticks (/proc/PID/stat field 22): pid + start time identify it across restarts. */
  startTime: number;
  /** The shim outside the container, parent of PID 1 and holder of its status; not part of the container. */
  shim: ProcessRef;
  mounts: MountPoint[];
  /** Milliseconds the worker spent in the namespace and mount sequence. */
  setupMs: number;
  /** Names of anonymous volumes created for this container (removed by `rm -v` / `--rm`). */
  anonymousVolumes: string[];
  /** Resolves when the container's PID 1 has exited and its status is known. */
  exited: Promise<ExitStatus>;
}

/** A running container found again from its shim's status file (`Runtime.adopt`). */
export interface AdoptedContainer {
  pid: number;
  startTime: number;
  shim: ProcessRef;
  /** Resolves once the shim has written the final status and exited. */
  exited: Promise<ExitStatus>;
}

/** `docker exec`: run one more process in a running container. */
export interface ExecRequest {
  /** The container's id (its cgroup, when it has one, takes the process too). */
  id: string;
  /** The container's PID 1, identified by pid and start time (as StartedContainer gives them). */
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
  /** The exec's process as the host sees it (Docker's exec `Pid`): the command, a child of the shim. */
  pid: number;
  startTime: number;
  /** The shim that waits for it outside the container and relays its terminal. */
  shim: ProcessRef;
  exited: Promise<ExitStatus>;
}
