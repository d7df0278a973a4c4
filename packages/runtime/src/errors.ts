/**
 * Error classes of @berth/runtime. Each carries a stable `code` so callers
 * (the CLI, the API server) can map it to an exit status or an HTTP status
 * without parsing messages.
 *
 * Mount-spec messages are Docker's own, verbatim: clients and scripts match
 * on them, so they deliberately do not follow the "failed to <verb>" style.
 */

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

/** A refused `-v`, `--mount`, `--tmpfs`, `--volumes-from` or API mount field. */
export class MountSpecError extends Error {
  override readonly name: string = 'MountSpecError';

  constructor(
    readonly code: MountSpecErrorCode,
    message: string,
    /** The user's text or field that was refused, when there is one. */
    readonly raw?: string,
  ) {
    super(message);
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
  | 'unsupported-network';

/** A container config that cannot become a launch plan. Messages are Docker's where Docker has one. */
export class PlanError extends Error {
  override readonly name = 'PlanError';

  constructor(readonly code: PlanErrorCode, message: string) {
    super(message);
  }
}

export function isPlanError(error: unknown, code?: PlanErrorCode): error is PlanError {
  return error instanceof PlanError && (code === undefined || error.code === code);
}

/** The launch failed before the container's init could run; nothing of it is left on the host. */
export class LaunchError extends Error {
  override readonly name = 'LaunchError';
  readonly code = 'launch-failed';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/**
 * A launch worker could not return to its own namespaces. It is retired and
 * never reused; the containers it started earlier keep running and are
 * watched by pid instead.
 */
export class WorkerRetiredError extends Error {
  override readonly name = 'WorkerRetiredError';
  readonly code = 'worker-retired';
  constructor(override readonly cause: unknown, readonly launchError?: unknown) {
    super(`failed to return a launch worker to the host's namespaces: ${cause instanceof Error ? cause.message : String(cause)}; the worker was retired, retry the launch`);
  }
}

/**
 * Why an archive request (`docker cp`, `GET|HEAD|PUT /containers/{id}/archive`)
 * was refused. The codes are the API's: NotFound (404), InvalidParameter
 * (400), Conflict (409); the messages are Docker's where Docker has one.
 */
export class ArchiveError extends Error {
  override readonly name: string = 'ArchiveError';
  constructor(readonly code: 'NotFound' | 'InvalidParameter' | 'Conflict', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
