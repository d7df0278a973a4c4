/**
 * Error classes of @berth/runtime. Each carries a stable `code` so callers
 * (the CLI, the API server) can map it to an exit status or an HTTP status
 * without parsing messages.
 *
 * Mount-spec messages are Docker's own, verbatim: clients and scripts match
 * on them, so they deliberately do not follow the "failed to <verb>" style.
 *
 * Each also carries the `kind` of failure (the vocabulary of @berth/syscall),
 * decided from its code here, which the API maps onto an HTTP status.
 */
import type { ErrorKind, KindedError } from '@berth/syscall';

/** Why a mount specification was refused. */
export type MountSpecErrorCode =
  /** CLI `-v` syntax (docker/cli's parser): empty spec, empty section, too many colons. */
  | 'invalid-volume-flag'
  /** CLI `--mount` syntax: CSV, unknown key, bad value, mixed options. */
  | 'invalid-mount-flag'
  /** Daemon-side `HostConfig.Binds` entry: `invalid volume specification: 'RAW'[: cause]`. */
  | 'invalid-volume-specification'
  /** Daemon-side `HostConfig.Mounts` entry: `invalid mount config for type "T": ...`. */
  | 'invalid-mount-config'
  /** A `HostConfig.Tmpfs` destination or option that Docker refuses. */
  | 'invalid-tmpfs'
  /** `--volumes-from` syntax. */
  | 'invalid-volumes-from'
  /** `--volumes-from` names a container the resolver does not know. */
  | 'no-such-container'
  /** Two binds, mounts or tmpfs mounts share a destination. */
  | 'duplicate-mount-point'
  /** An API field of the wrong JSON type (Docker would fail to decode it). */
  | 'invalid-api-field'
  /** `--mount type=bind` whose source is missing, without `bind-create-src` (raised by the executor). */
  | 'bind-source-missing'
  /** A shared or slave bind whose source is not on a shared (or slave) mount. */
  | 'bind-propagation'
  /** A form Docker accepts that berth does not implement (image mounts). */
  | 'unsupported';

const MOUNT_SPEC_KIND: Record<MountSpecErrorCode, ErrorKind> = {
  'invalid-volume-flag': 'invalid-parameter',
  'invalid-mount-flag': 'invalid-parameter',
  'invalid-volume-specification': 'invalid-parameter',
  'invalid-mount-config': 'invalid-parameter',
  'invalid-tmpfs': 'invalid-parameter',
  'invalid-volumes-from': 'invalid-parameter',
  // dockerd checks --volumes-from while it validates the create request: a 400, not a 404.
  'no-such-container': 'invalid-parameter',
  'duplicate-mount-point': 'invalid-parameter',
  'invalid-api-field': 'invalid-parameter',
  'bind-source-missing': 'invalid-parameter',
  'bind-propagation': 'invalid-parameter',
  'unsupported': 'not-implemented',
};

/** A refused `-v`, `--mount`, `--tmpfs`, `--volumes-from` or API mount field. */
export class MountSpecError extends Error implements KindedError {
  override readonly name: string = 'MountSpecError';
  readonly kind: ErrorKind;

  constructor(
    readonly code: MountSpecErrorCode,
    message: string,
    /** The user's text or field that was refused, when there is one. */
    readonly raw?: string,
  ) {
    super(message);
    this.kind = MOUNT_SPEC_KIND[code];
  }
}

/** `--mount type=bind` whose source does not exist (and no `bind-create-src`): raised where the source is looked at. */
export class BindSourceMissingError extends MountSpecError {
  override readonly name: string = 'BindSourceMissingError';

  constructor(readonly source: string) {
    super('bind-source-missing', `invalid mount config for type "bind": bind source path does not exist: ${source}`, source);
  }
}

/** Docker's check that a shared/slave bind can propagate at all (moby's ensureShared / ensureSharedOrSlave). */
export class BindPropagationError extends MountSpecError {
  override readonly name: string = 'BindPropagationError';

  constructor(message: string, readonly source: string) {
    super('bind-propagation', message, source);
  }
}

export function isMountSpecError(error: unknown, code?: MountSpecErrorCode): error is MountSpecError {
  return error instanceof MountSpecError && (code === undefined || error.code === code);
}

/** Why a launch could not be planned. */
export type PlanErrorCode =
  /** Neither Entrypoint nor Cmd, after merging with the image: Docker's `no command specified`. */
  | 'no-command'
  /** A config value Docker refuses (relative WorkingDir, memory below 6MB, ...). */
  | 'invalid-config'
  /** A network mode berth does not provide. */
  | 'unsupported-network'
  /** A network mode that names a network that does not exist: Docker's `network X not found`. */
  | 'no-such-network';

const PLAN_KIND: Record<PlanErrorCode, ErrorKind> = {
  'no-command': 'invalid-parameter',
  'invalid-config': 'invalid-parameter',
  'unsupported-network': 'not-implemented',
  'no-such-network': 'not-found',
};

/** A container config that cannot become a launch plan. Messages are Docker's where Docker has one. */
export class PlanError extends Error implements KindedError {
  override readonly name = 'PlanError';
  readonly kind: ErrorKind;

  constructor(readonly code: PlanErrorCode, message: string) {
    super(message);
    this.kind = PLAN_KIND[code];
  }
}

export function isPlanError(error: unknown, code?: PlanErrorCode): error is PlanError {
  return error instanceof PlanError && (code === undefined || error.code === code);
}

/** The launch failed before the container's init could run; nothing of it is left on the host. */
export class LaunchError extends Error implements KindedError {
  override readonly name = 'LaunchError';
  readonly code = 'launch-failed';
  readonly kind = 'system';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/**
 * A launch worker could not return to its own namespaces. It is retired and
 * never reused; the containers it started earlier keep running and are
 * watched by pid instead.
 */
export class WorkerRetiredError extends Error implements KindedError {
  override readonly name = 'WorkerRetiredError';
  readonly code = 'worker-retired';
  /** The launch never began; the same request succeeds on another worker. */
  readonly kind = 'unavailable';
  constructor(override readonly cause: unknown, readonly launchError?: unknown) {
    super(`failed to return a launch worker to the host's namespaces: ${cause instanceof Error ? cause.message : String(cause)}; the worker was retired, retry the launch`);
  }
}

/** A create body of the wrong shape (a field of the wrong JSON type, no image). */
export class CreateRequestError extends Error implements KindedError {
  override readonly name = 'CreateRequestError';
  readonly code = 'invalid-create-request';
  readonly kind = 'invalid-parameter';
  constructor(message: string) {
    super(message);
  }
}

/** Why a create request's security settings were refused. Every one is an invalid parameter (HTTP 400). */
export type SecurityErrorCode =
  /** `CapAdd`/`CapDrop` names a capability that does not exist (moby's oci/caps). */
  | 'invalid-capability'
  /** A `SecurityOpt` entry Docker refuses: `invalid --security-opt N: "OPT"`. */
  | 'invalid-security-opt'
  /** A `seccomp=<json>` profile that does not decode or names an unknown action, operator or architecture. */
  | 'invalid-seccomp-profile'
  /** `OomScoreAdj` outside -1000..1000. */
  | 'invalid-oom-score-adj'
  /** An `Ulimits` entry with an unknown name or soft > hard. */
  | 'invalid-ulimit'
  /** A `Sysctls` key that is not namespaced, or not in a namespace of the container's own. */
  | 'invalid-sysctl'
  /** A `GroupAdd` entry that is empty or not a group name or id. */
  | 'invalid-group-add'
  /** A security option Docker knows that berth does not implement (refused rather than ignored). */
  | 'invalid-unsupported-security-option';

/**
 * A refused security setting. `kind` is always 'invalid-parameter' (the API
 * answers 400); `code` says which check failed. Messages are Docker's where
 * Docker has one.
 */
export class SecurityConfigError extends Error implements KindedError {
  override readonly name = 'SecurityConfigError';
  readonly kind = 'invalid-parameter';

  constructor(
    readonly code: SecurityErrorCode,
    message: string,
    /** The HostConfig field the value came from (`CapAdd`, `SecurityOpt`, ...). */
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * A create body sets a field berth does not implement. Refused rather than
 * ignored: a security or resource option that silently does nothing is
 * worse than an error.
 */
export class UnsupportedFieldError extends Error implements KindedError {
  override readonly name = 'UnsupportedFieldError';
  readonly code = 'unsupported-field';
  readonly kind = 'invalid-parameter';
  constructor(readonly field: string, readonly value: unknown) {
    super(`berth does not implement ${field} (got ${JSON.stringify(value)}): leave it unset`);
  }
}

export function isSecurityConfigError(error: unknown, code?: SecurityErrorCode): error is SecurityConfigError {
  return error instanceof SecurityConfigError && (code === undefined || error.code === code);
}

/** The state root or the volumes directory could not be made private. */
export class StateRootError extends Error implements KindedError {
  override readonly name = 'StateRootError';
  readonly code = 'state-root';
  readonly kind = 'system';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** A seccomp profile that libseccomp could not compile, or a cache file that could not be written. */
export class SeccompCompileError extends Error implements KindedError {
  override readonly name = 'SeccompCompileError';
  readonly code = 'seccomp-compile';
  readonly kind = 'system';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/**
 * Why an archive request (`docker cp`, `GET|HEAD|PUT /containers/{id}/archive`)
 * was refused. The codes are the API's: NotFound (404), InvalidParameter
 * (400), Conflict (409); the messages are Docker's where Docker has one.
 */
export class ArchiveError extends Error implements KindedError {
  override readonly name: string = 'ArchiveError';
  readonly kind: ErrorKind;
  constructor(readonly code: 'NotFound' | 'InvalidParameter' | 'Conflict', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = ARCHIVE_KIND[code];
  }
}

const ARCHIVE_KIND: Record<ArchiveError['code'], ErrorKind> = { NotFound: 'not-found', InvalidParameter: 'invalid-parameter', Conflict: 'conflict' };
