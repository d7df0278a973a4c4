/**
 * The contract between the launch (`Runtime`) and whoever drives container
 * lifecycles (the supervisor, the bench, a library user).
 */

import type { ContainerConfig, ContainerSpec } from './container/types.js';
import type { NamespaceDonors } from './plan/types.js';
import type { ResolvedSecurity } from './security/types.js';

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
  /** The container as `Runtime.create` resolved it (what the caller stored). */
  spec: ContainerSpec;
  stdio: StdioFds;
  /**
   * Host file the container init writes its final status line to. It is how
   * an exit status survives the death of the supervisor.
   */
  statusPath: string;
  /**
   * For `PidMode`/`IpcMode` `container:<id|name>`: the pid of the named
   * container's init (running), resolved by the caller. planLaunch joins
   * `/proc/<pid>/ns/<kind>` of it.
   */
  namespaceDonors?: NamespaceDonors;
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
  /** Milliseconds the worker spent in the namespace and mount sequence. */
  setupMs: number;
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
  /** The container's resolved Config (its env, user and working directory are the exec's defaults). */
  config: ContainerConfig;
  /** The container's resolved security settings: the exec runs under the same capabilities, seccomp and groups. */
  security?: ResolvedSecurity;
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
