import type { CapabilitySet } from '../plan/types.js';

/** Which seccomp profile a container runs under. */
export type SeccompChoice =
  | { kind: 'default' }
  | { kind: 'unconfined' }
  /** `seccomp=<json>`: the profile's JSON text as the client sent it (already decoded once, so it is valid). */
  | { kind: 'custom'; profile: string };

/** One resource limit (`--ulimit nofile=1024:2048`); -1 is RLIM_INFINITY. */
export interface Ulimit {
  /** Docker's name: nofile, nproc, core ... */
  name: string;
  soft: number;
  hard: number;
}

export interface Sysctl {
  /** Dotted form (`net.ipv4.ip_forward`). */
  key: string;
  value: string;
}

/** A create request's security settings, resolved and defaulted once (plain data, JSON-serialisable). */
export interface ResolvedSecurity {
  privileged: boolean;
  capabilities: CapabilitySet;
  /** Always 'unconfined' when privileged. */
  seccomp: SeccompChoice;
  noNewPrivileges: boolean;
  /** Docker's defaults unless the request gave a list; none when privileged or `systempaths=unconfined`. */
  maskedPaths: string[];
  readonlyPaths: string[];
  /** `--group-add`: names (resolved in the container's /etc/group by the stub) or numeric ids. */
  groupAdd: string[];
  /** 0 leaves the inherited value, as Docker does. */
  oomScoreAdj: number;
  ulimits: Ulimit[];
  sysctls: Sysctl[];
}

/** The `HostConfig` fields the security resolver reads (Docker's names and JSON types). */
export interface SecurityHostConfig {
  Privileged?: boolean | null;
  CapAdd?: readonly string[] | null;
  CapDrop?: readonly string[] | null;
  SecurityOpt?: readonly string[] | null;
  MaskedPaths?: readonly string[] | null;
  ReadonlyPaths?: readonly string[] | null;
  GroupAdd?: readonly string[] | null;
  OomScoreAdj?: number | null;
  Ulimits?: ReadonlyArray<{ Name?: string; Soft?: number; Hard?: number }> | null;
  Sysctls?: Readonly<Record<string, string>> | null;
  NetworkMode?: string | null;
  IpcMode?: string | null;
  UTSMode?: string | null;
}

/** What the resolver needs to know about the host and the daemon. */
export interface SecurityContext {
  /** `/proc/sys/kernel/cap_last_cap` (see `readLastCap`). */
  lastCap: number;
  /** The daemon forces no-new-privileges (dockerd's `--no-new-privileges`); a request can still turn it off. */
  daemonNoNewPrivileges?: boolean;
}
