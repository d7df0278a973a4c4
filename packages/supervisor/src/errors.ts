/**
 * Errors of the supervisor. Each carries a stable `code`; `httpStatusFor`
 * maps them (and the codes of the stores' errors) onto the Docker API's
 * status codes in one place.
 */
export class SupervisorError extends Error {
  override readonly name: string = 'SupervisorError';
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
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

const STATUS_BY_CODE: Record<string, number> = {
  NotFound: 404,
  NO_SUCH_IMAGE: 404,
  NO_SUCH_CONTAINER: 404,
  NoSuchVolume: 404,
  ENOENT: 404,
  InUse: 409,
  Conflict: 409,
  IMAGE_IN_USE: 409,
  IMAGE_CONFLICT: 409,
  AMBIGUOUS_IMAGE: 409,
  AlreadyExists: 409,
  InvalidName: 400,
  InvalidParameter: 400,
  InvalidSpec: 400,
  InvalidMountSpec: 400,
  InvalidOption: 400,
  INVALID_REFERENCE: 400,
  INVALID_ARCHIVE: 400,
  UNSAFE_ENTRY: 400,
  DIGEST_MISMATCH: 400,
  NotModified: 304,
  // @berth/networks: dockerd's 403 for predefined networks and in-use removals, 400 for an ambiguous name.
  Forbidden: 403,
  Ambiguous: 400,
  NotImplemented: 501,
  PayloadTooLarge: 413,
};

/** The HTTP status for any error: by its `code`, else 400 for codes that say "invalid", else 500. */
export function httpStatusFor(err: unknown): number {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const known = STATUS_BY_CODE[code];
  if (known !== undefined) return known;
  if (/^invalid/i.test(code) || /^INVALID_/.test(code)) return 400;
  if (/notfound|not_found|no_such/i.test(code)) return 404;
  if (/inuse|in_use|conflict/i.test(code)) return 409;
  return 500;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
