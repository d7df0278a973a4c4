/**
 * Errors of the supervisor, and the one table that turns any error into an
 * HTTP status. Every package's errors carry a stable `code` and the `kind`
 * of failure it is (the vocabulary of @berth/syscall, after moby's errdefs);
 * `httpStatusFor` reads only the kind. Anything without one is a bug or a
 * failure of the machine: 500.
 */
import { errorKind, type ErrorKind, type KindedError } from '@berth/syscall';

export type SupervisorErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'InvalidParameter'
  | 'NotModified'
  | 'NotImplemented'
  | 'PayloadTooLarge'
  | 'AddressInUse';

const KIND_BY_CODE: Record<SupervisorErrorCode, ErrorKind> = {
  NotFound: 'not-found',
  Conflict: 'conflict',
  InvalidParameter: 'invalid-parameter',
  NotModified: 'not-modified',
  NotImplemented: 'not-implemented',
  PayloadTooLarge: 'too-large',
  AddressInUse: 'system',
};

export class SupervisorError extends Error implements KindedError {
  override readonly name: string = 'SupervisorError';
  readonly kind: ErrorKind;
  constructor(readonly code: SupervisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = KIND_BY_CODE[code];
  }
}

/** Docker's wording, which clients match on: "No such container: X". */
export class NoSuchContainerError extends SupervisorError {
  override readonly name = 'NoSuchContainerError';
  constructor(readonly ref: string) {
    super('NotFound', `No such container: ${ref}`);
  }
}

/** Docker's wording: "No such exec instance: X". */
export class NoSuchExecError extends SupervisorError {
  override readonly name = 'NoSuchExecError';
  constructor(readonly ref: string) {
    super('NotFound', `No such exec instance: ${ref}`);
  }
}

/** Something the request names does not exist (a path, a filter's container). */
export class NotFoundError extends SupervisorError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super('NotFound', message);
  }
}

export class ConflictError extends SupervisorError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super('Conflict', message);
  }
}

/** A request that is malformed or names something invalid. */
export class InvalidParameterError extends SupervisorError {
  override readonly name = 'InvalidParameterError';
  constructor(message: string) {
    super('InvalidParameter', message);
  }
}

/** Docker's 304: the container is already in the asked-for state. */
export class NotModifiedError extends SupervisorError {
  override readonly name = 'NotModifiedError';
  constructor(message: string) {
    super('NotModified', message);
  }
}

export class NotImplementedError extends SupervisorError {
  override readonly name = 'NotImplementedError';
  constructor(message: string) {
    super('NotImplemented', message);
  }
}

export class PayloadTooLargeError extends SupervisorError {
  override readonly name = 'PayloadTooLargeError';
  constructor(limit: number) {
    super('PayloadTooLarge', `failed to read request body: it is larger than ${limit} bytes`);
  }
}

/** The one table from a kind of failure to Docker's HTTP status. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  'invalid-parameter': 400,
  'not-found': 404,
  'conflict': 409,
  'not-modified': 304,
  'not-implemented': 501,
  // `docker login` refused (dockerd answers 401 with the registry's reason).
  'unauthorized': 401,
  // dockerd's answer to what it forbids on networks (predefined ones, ones with endpoints).
  'forbidden': 403,
  'unavailable': 503,
  'too-large': 413,
  'system': 500,
};

/** The HTTP status for any thrown value, by its kind alone. */
export function httpStatusFor(err: unknown): number {
  return STATUS_BY_KIND[errorKind(err)];
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
