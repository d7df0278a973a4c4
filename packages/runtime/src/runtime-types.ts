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
   * With `Config.Tty`: a file holding "ROWS COLS", read by the shim at start,
   * each time a writer closes it, and each time the shim gets SIGWINCH: a
   * resize is a write of this file (rewritten in place, not renamed).
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
   * Host file the container's shim writes to: first where the container
   * runs (`shim SHIM_PID SHIM_START PID PID_START`, before it runs anything;
   * `Runtime.adopt` and `strayInits` read it), then its final status line.
   * It is how a container and its exit status survive the supervisor.
   */
  statusPath: string;
  /**
   * For `PidMode`/`IpcMode` `container:<id|name>`: the pid of the named
   * container's init (running), resolved by the caller. planLaunch joins
   * `/proc/<pid>/ns/<kind>` of it.
   */
  namespaceDonors?: NamespaceDonors;
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
 * (loopback up) and a small holder process (`berth-netns ID`, outside the
 * supervisor, so it outlives a SIGKILL of it) that keeps it open; the path
 * (`/proc/<holder>/fd/3`) stays valid until `teardown` has returned, even
 * after the container exited. The runtime ends the holder after the
 * teardown; a caller that restarted after a crash reaches the namespace
 * through the holder it recorded (`releaseNetnsHolder` ends it).
 */
export interface NetworkHook {
  /**
   * Configure the namespace; the files returned are bound over the
   * container's own, as Docker does. `holder` is the process that holds the
   * namespace: record it before anything else.
   */
  setup(netnsPath: string, holder: ProcessRef): Promise<NetworkSetup>;
  /** The container exited (or its launch failed): undo `setup` while the namespace is still held. */
  teardown(netnsPath: string): Promise<void>;
}

/** Host files bound in at `/etc/hosts`, `/etc/resolv.conf`, `/etc/hostname` (each optional). */
export interface NetworkFiles {
  hosts?: string;
  resolvConf?: string;
  hostname?: string;
}

/** What a network hook's setup gives the launch: the name files, and Docker's legacy link variables. */
export interface NetworkSetup extends NetworkFiles {
  /** `--link` on the default bridge: `ALIAS_PORT…`, `ALIAS_NAME`, `ALIAS_ENV_…`, before the container's own `Env`. */
  linkEnv?: readonly string[];
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
  /** Milliseconds the worker spent in the namespace and mount sequence. */
  setupMs: number;
  /** Whether a sandbox built ahead served the launch; false: its container was built inline. */
  sandboxed: boolean;
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
  /** The container's resolved Config (its env, user and working directory are the exec's defaults). */
  config: ContainerConfig;
  /** The container's resolved security settings: the exec runs under the same capabilities, seccomp and groups. */
  security?: ResolvedSecurity;
  exec: { Cmd: string[]; Env?: string[] | null; User?: string; WorkingDir?: string; Tty?: boolean };
  /** Docker's legacy link variables (`--link` on the default bridge), before the container's own Env. */
  linkEnv?: readonly string[];
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
