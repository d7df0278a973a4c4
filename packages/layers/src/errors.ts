/**
 * Errors of the layer store. Each has a stable `code` and, from it, the
 * `kind` of failure it is (the vocabulary of @berth/syscall, which the API
 * maps onto statuses); messages read
 * "failed to <verb> <object>: <what was wrong>[, <what to do>]".
 */
import type { ErrorKind, KindedError } from '@berth/syscall';

export type LayerStoreErrorCode =
  | 'NO_SUCH_IMAGE'
  | 'AMBIGUOUS_IMAGE'
  | 'INVALID_ARCHIVE'
  | 'UNSAFE_ENTRY'
  | 'DIGEST_MISMATCH'
  | 'IMAGE_IN_USE'
  | 'IMAGE_CONFLICT'
  | 'INVALID_REFERENCE'
  | 'NO_SUCH_CONTAINER'
  | 'CONTAINER_EXISTS'
  | 'CONTAINER_BUSY'
  | 'LOWERDIR_TOO_LONG'
  | 'INVALID_CONTAINER_ID'
  | 'MISSING_LAYER'
  | 'UNSUPPORTED_COMPRESSION'
  | 'SAVE_UNSUPPORTED'
  | 'DRIVER_UNSUPPORTED'
  | 'INVALID_PLAN'
  | 'COPY_FAILED'
  | 'WORKER_FAILED'
  | RegistryErrorCode;

/** Codes of `RegistryError`: talking to a registry. */
export type RegistryErrorCode =
  | 'PUSH_UNSUPPORTED'
  | 'INVALID_PLATFORM'
  | 'LOGIN_FAILED'
  | 'MANIFEST_UNKNOWN'
  | 'NO_MATCHING_PLATFORM'
  | 'REGISTRY_PROTOCOL'
  | 'REGISTRY_UNAUTHORIZED'
  | 'REGISTRY_UNREACHABLE'
  | 'SCHEMA1_REMOVED'
  | 'UNSUPPORTED_MANIFEST';

const KIND_BY_CODE: Record<LayerStoreErrorCode, ErrorKind> = {
  NO_SUCH_IMAGE: 'not-found',
  AMBIGUOUS_IMAGE: 'conflict',
  INVALID_ARCHIVE: 'invalid-parameter',
  UNSAFE_ENTRY: 'invalid-parameter',
  DIGEST_MISMATCH: 'invalid-parameter',
  IMAGE_IN_USE: 'conflict',
  IMAGE_CONFLICT: 'conflict',
  INVALID_REFERENCE: 'invalid-parameter',
  // A container's layout is berth's own bookkeeping: missing or doubled, the store is inconsistent.
  NO_SUCH_CONTAINER: 'system',
  CONTAINER_EXISTS: 'system',
  CONTAINER_BUSY: 'conflict',
  LOWERDIR_TOO_LONG: 'system',
  // The supervisor makes container ids; a bad one reaching the store is a bug.
  INVALID_CONTAINER_ID: 'system',
  MISSING_LAYER: 'system',
  // zstd: a format berth does not decode.
  UNSUPPORTED_COMPRESSION: 'not-implemented',
  // Layers from `docker load`/`import` keep no byte-exact tar to push or save.
  SAVE_UNSUPPORTED: 'not-implemented',
  // diff and commit need the overlay driver's upper directory.
  DRIVER_UNSUPPORTED: 'not-implemented',
  PUSH_UNSUPPORTED: 'not-implemented',
  INVALID_PLAN: 'system',
  COPY_FAILED: 'system',
  WORKER_FAILED: 'system',
  INVALID_PLATFORM: 'invalid-parameter',
  LOGIN_FAILED: 'unauthorized',
  MANIFEST_UNKNOWN: 'not-found',
  NO_MATCHING_PLATFORM: 'not-found',
  REGISTRY_PROTOCOL: 'system',
  // dockerd answers a pull the registry refuses with a 500 ("no basic auth credentials"); a 401 would make
  // the docker CLI prompt for a login on its stdin.
  REGISTRY_UNAUTHORIZED: 'system',
  REGISTRY_UNREACHABLE: 'system',
  UNSUPPORTED_MANIFEST: 'not-implemented',
  // moby's DeprecatedSchema1ImageError is an invalid-argument error (400).
  SCHEMA1_REMOVED: 'invalid-parameter',
};

export class LayerStoreError extends Error implements KindedError {
  override readonly name: string = 'LayerStoreError';
  readonly kind: ErrorKind;
  constructor(readonly code: LayerStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = KIND_BY_CODE[code];
  }
}

/** Docker's wording, which clients match on: "No such image: X". */
export class NoSuchImageError extends LayerStoreError {
  override readonly name = 'NoSuchImageError';
  constructor(readonly ref: string) {
    super('NO_SUCH_IMAGE', `No such image: ${ref}`);
  }
}

export class AmbiguousImageError extends LayerStoreError {
  override readonly name = 'AmbiguousImageError';
  constructor(readonly ref: string) {
    super('AMBIGUOUS_IMAGE', `failed to resolve image ${ref}: the id prefix matches more than one image, give more characters`);
  }
}

/** An archive that cannot be imported: unknown format, corrupt, truncated, inconsistent. */
export class InvalidArchiveError extends LayerStoreError {
  override readonly name = 'InvalidArchiveError';
  constructor(detail: string, options?: { cause?: unknown }) {
    super('INVALID_ARCHIVE', `failed to import image: ${detail}`, options);
  }
}

/** A layer entry that would land outside its layer, or write through a symlink. */
export class UnsafeEntryError extends LayerStoreError {
  override readonly name = 'UnsafeEntryError';
  constructor(readonly entry: string, reason: string) {
    super('UNSAFE_ENTRY', `failed to import layer entry ${JSON.stringify(entry)}: ${reason}; the archive was refused and nothing was imported`);
  }
}

export class DigestMismatchError extends LayerStoreError {
  override readonly name = 'DigestMismatchError';
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super('DIGEST_MISMATCH', `failed to verify ${what}: expected ${expected}, got ${actual}; the archive is corrupt or was tampered with`);
  }
}

export class ImageInUseError extends LayerStoreError {
  override readonly name = 'ImageInUseError';
  constructor(readonly ref: string, readonly containers: readonly string[]) {
    super('IMAGE_IN_USE', `failed to remove image ${ref}: it is used by container(s) ${containers.join(', ')}; remove them first`);
  }
}

export class ImageConflictError extends LayerStoreError {
  override readonly name = 'ImageConflictError';
  constructor(readonly ref: string, detail: string) {
    super('IMAGE_CONFLICT', `failed to remove image ${ref}: ${detail}`);
  }
}

export class InvalidReferenceError extends LayerStoreError {
  override readonly name = 'InvalidReferenceError';
  constructor(readonly ref: string, detail: string) {
    super('INVALID_REFERENCE', `failed to parse image reference ${JSON.stringify(ref)}: ${detail}`);
  }
}

export class NoSuchContainerError extends LayerStoreError {
  override readonly name = 'NoSuchContainerError';
  constructor(readonly containerId: string) {
    super('NO_SUCH_CONTAINER', `failed to find container layout ${containerId}: it was never prepared or was removed`);
  }
}

export class ContainerExistsError extends LayerStoreError {
  override readonly name = 'ContainerExistsError';
  constructor(readonly containerId: string) {
    super('CONTAINER_EXISTS', `failed to prepare container ${containerId}: a layout with this id already exists`);
  }
}

export class ContainerBusyError extends LayerStoreError {
  override readonly name = 'ContainerBusyError';
  constructor(readonly containerId: string, readonly mountPoint: string) {
    super('CONTAINER_BUSY', `failed to remove container ${containerId}: ${mountPoint} is still mounted in this mount namespace; unmount it first`);
  }
}

export class LowerdirTooLongError extends LayerStoreError {
  override readonly name = 'LowerdirTooLongError';
  constructor(readonly containerId: string, readonly length: number) {
    super('LOWERDIR_TOO_LONG', `failed to build the overlay mount for ${containerId}: its options are ${length} bytes, over the kernel's one-page limit (4095); use a shorter store root or fewer layers`);
  }
}

/** A layer compressed in a way berth does not decode (zstd). */
export class UnsupportedCompressionError extends LayerStoreError {
  override readonly name = 'UnsupportedCompressionError';
  constructor(readonly what: string, readonly compression: string) {
    super('UNSUPPORTED_COMPRESSION', `failed to import ${what}: it is ${compression}-compressed, which berth does not decode; recompress it with gzip`);
  }
}

/**
 * Talking to a registry failed. Codes: `REGISTRY_UNREACHABLE` (network, TLS),
 * `REGISTRY_PROTOCOL` (an answer berth cannot use), `REGISTRY_UNAUTHORIZED`
 * (credentials missing or refused), `MANIFEST_UNKNOWN` (no such tag, digest
 * or repository), `SCHEMA1_REMOVED` (a schema 1 manifest, with moby's text),
 * `UNSUPPORTED_MANIFEST` (unknown media types),
 * `NO_MATCHING_PLATFORM`, `LOGIN_FAILED` (`docker login` refused: Docker's 401).
 */
export class RegistryError extends LayerStoreError {
  override readonly name = 'RegistryError';
  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
