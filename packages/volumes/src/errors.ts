/**
 * Errors of @berth/volumes. Each carries a stable `code` and, from it, the
 * `kind` of failure (the vocabulary of @berth/syscall) that the API server
 * maps to an HTTP status (not-found → 404, conflict → 409, invalid-parameter → 400).
 * Messages that Docker clients show are Docker's own, verbatim.
 */
import type { ErrorKind, KindedError } from '@berth/syscall';

export type VolumeErrorCode =
  | 'NotFound'
  | 'InUse'
  | 'InvalidName'
  | 'InvalidOption'
  | 'InvalidSubpath'
  | 'SubpathNotFound'
  | 'UnsafePath'
  | 'NotEmpty'
  | 'AlreadyExists'
  | 'InvalidArchive'
  | 'MountFailed'
  | 'NoMountNamespace'
  | 'Metadata'
  /** The disk filled up during the operation; nothing was changed. */
  | 'NoSpace';

const KIND_BY_CODE: Record<VolumeErrorCode, ErrorKind> = {
  NotFound: 'not-found',
  InUse: 'conflict',
  InvalidName: 'invalid-parameter',
  InvalidOption: 'invalid-parameter',
  InvalidSubpath: 'invalid-parameter',
  SubpathNotFound: 'invalid-parameter',
  UnsafePath: 'system',
  NotEmpty: 'conflict',
  AlreadyExists: 'conflict',
  InvalidArchive: 'invalid-parameter',
  MountFailed: 'system',
  NoMountNamespace: 'system',
  Metadata: 'system',
  NoSpace: 'system',
};

export class VolumeError extends Error implements KindedError {
  override readonly name: string = 'VolumeError';
  readonly kind: ErrorKind;
  constructor(
    readonly code: VolumeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = KIND_BY_CODE[code];
  }
}

/** `get NAME: no such volume` (Docker's 404). */
export class VolumeNotFoundError extends VolumeError {
  override readonly name = 'VolumeNotFoundError';
  constructor(readonly volume: string) {
    super('NotFound', `get ${volume}: no such volume`);
  }
}

/** `remove NAME: volume is in use - [id1, id2]` (Docker's 409; force does not override). */
export class VolumeInUseError extends VolumeError {
  override readonly name = 'VolumeInUseError';
  constructor(readonly volume: string, readonly containers: readonly string[], verb = 'remove') {
    super('InUse', `${verb} ${volume}: volume is in use - [${containers.join(', ')}]`);
  }
}

export class InvalidVolumeNameError extends VolumeError {
  override readonly name = 'InvalidVolumeNameError';
  constructor(readonly volume: string, message: string) {
    super('InvalidName', message);
  }
}

export class InvalidVolumeOptionError extends VolumeError {
  override readonly name = 'InvalidVolumeOptionError';
  constructor(message: string) {
    super('InvalidOption', message);
  }
}

/** A subpath that is absolute, climbs with `..`, or crosses a symlink. */
export class InvalidSubpathError extends VolumeError {
  override readonly name = 'InvalidSubpathError';
  constructor(readonly subpath: string, options?: { cause?: unknown }) {
    super('InvalidSubpath', 'subpath must be a relative path within the volume', options);
  }
}

export class SubpathNotFoundError extends VolumeError {
  override readonly name = 'SubpathNotFoundError';
  constructor(readonly subpath: string, readonly dataDir: string) {
    super(
      'SubpathNotFound',
      `failed to resolve volume subpath "${subpath}": it does not exist in ${dataDir}; create it in the volume first`,
    );
  }
}

/** A path that would lead outside `<root>/volumes` (symlinked volume dir, foreign mount). */
export class UnsafePathError extends VolumeError {
  override readonly name = 'UnsafePathError';
  constructor(message: string) {
    super('UnsafePath', message);
  }
}

export class VolumeNotEmptyError extends VolumeError {
  override readonly name = 'VolumeNotEmptyError';
  constructor(readonly volume: string) {
    super('NotEmpty', `failed to import into volume ${volume}: the volume is not empty; import into a new or empty volume`);
  }
}

export class InvalidArchiveError extends VolumeError {
  override readonly name = 'InvalidArchiveError';
  constructor(readonly volume: string, reason: string, options?: { cause?: unknown }) {
    super('InvalidArchive', `failed to import into volume ${volume}: ${reason}; the volume was left untouched`, options);
  }
}

export class VolumeMountError extends VolumeError {
  override readonly name = 'VolumeMountError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MountFailed', message, options);
  }
}

export class NoMountNamespaceError extends VolumeError {
  override readonly name = 'NoMountNamespaceError';
  constructor(readonly volume: string) {
    super(
      'NoMountNamespace',
      `failed to mount volume ${volume}: it has driver options (type/device/o) and this VolumeStore has no ` +
        'mountNamespace; pass a PrivateMountNamespace in VolumeStore.open options (berth never mounts in the host namespace)',
    );
  }
}

export function isVolumeError(error: unknown, code?: VolumeErrorCode): error is VolumeError {
  return error instanceof VolumeError && (code === undefined || error.code === code);
}
