/**
 * Errors of @berth/networks. Each carries a stable `code` and, from it, the
 * `kind` of failure it is (@berth/syscall's vocabulary, which the API maps
 * onto statuses in one table). Messages that Docker clients show are
 * dockerd 20.10's own, verbatim.
 */
import type { ErrorKind, KindedError } from '@berth/syscall';

export type NetworkErrorCode =
  | 'NotFound'
  | 'Ambiguous'
  | 'AlreadyExists'
  | 'Forbidden'
  | 'InUse'
  | 'Conflict'
  | 'InvalidParameter'
  | 'PoolOverlap'
  | 'AddressExhausted'
  | 'NotImplemented'
  | 'Netavark'
  | 'Metadata';

const KIND_BY_CODE: Record<NetworkErrorCode, ErrorKind> = {
  NotFound: 'not-found',
  Ambiguous: 'invalid-parameter',
  AlreadyExists: 'conflict',
  // dockerd answers 403 for what it forbids on networks in use or predefined.
  Forbidden: 'forbidden',
  InUse: 'conflict',
  Conflict: 'conflict',
  InvalidParameter: 'invalid-parameter',
  PoolOverlap: 'invalid-parameter',
  AddressExhausted: 'unavailable',
  NotImplemented: 'not-implemented',
  Netavark: 'system',
  Metadata: 'system',
};

export class NetworkError extends Error implements KindedError {
  override readonly name: string = 'NetworkError';
  readonly kind: ErrorKind;
  constructor(readonly code: NetworkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = KIND_BY_CODE[code];
  }
}

/** `network X not found` (404). */
export class NetworkNotFoundError extends NetworkError {
  override readonly name = 'NetworkNotFoundError';
  constructor(readonly ref: string) {
    super('NotFound', `network ${ref} not found`);
  }
}

/** A name two networks share (Docker allows that without CheckDuplicate): 400. */
export class AmbiguousNetworkError extends NetworkError {
  override readonly name = 'AmbiguousNetworkError';
  constructor(readonly ref: string, readonly matches: number) {
    super('Ambiguous', `network ${ref} is ambiguous (${matches} matches found based on name)`);
  }
}

/** `CheckDuplicate` and the name is taken (409). */
export class NetworkExistsError extends NetworkError {
  override readonly name = 'NetworkExistsError';
  constructor(readonly network: string) {
    super('AlreadyExists', `network with name ${network} already exists`);
  }
}

/** Operations Docker forbids on its predefined networks (403). */
export class PredefinedNetworkError extends NetworkError {
  override readonly name = 'PredefinedNetworkError';
  constructor(message: string) {
    super('Forbidden', message);
  }
}

/** Removing a network with endpoints (dockerd 20.10 answers 403 with this text; the API spec says 409). */
export class NetworkInUseError extends NetworkError {
  override readonly name = 'NetworkInUseError';
  constructor(readonly network: string, readonly id: string) {
    super('Forbidden', `error while removing network: network ${network} id ${id} has active endpoints`);
  }
}

/** A container already on the network (403, Docker's text). */
export class EndpointExistsError extends NetworkError {
  override readonly name = 'EndpointExistsError';
  constructor(containerName: string, network: string) {
    super('Forbidden', `endpoint with name ${containerName} already exists in network ${network}`);
  }
}

export class NotConnectedError extends NetworkError {
  override readonly name = 'NotConnectedError';
  constructor(containerId: string, network: string) {
    super('Conflict', `container ${containerId} is not connected to network ${network}`);
  }
}

export class InvalidNetworkConfigError extends NetworkError {
  override readonly name = 'InvalidNetworkConfigError';
  constructor(message: string) {
    super('InvalidParameter', message);
  }
}

/** `Pool overlaps with other one on this address space` (Docker's 403). */
export class PoolOverlapError extends NetworkError {
  override readonly name = 'PoolOverlapError';
  constructor(message = 'Pool overlaps with other one on this address space') {
    super('Forbidden', message);
  }
}

export class AddressExhaustedError extends NetworkError {
  override readonly name = 'AddressExhaustedError';
  constructor(message: string) {
    super('AddressExhausted', message);
  }
}

/** A driver or option berth does not implement: refused, never ignored. */
export class NetworkNotImplementedError extends NetworkError {
  override readonly name = 'NetworkNotImplementedError';
  constructor(message: string) {
    super('NotImplemented', message);
  }
}

/** netavark failed; its own JSON error text is kept. */
export class NetavarkError extends NetworkError {
  override readonly name = 'NetavarkError';
  constructor(readonly verb: 'setup' | 'teardown', readonly containerId: string, detail: string, options?: { cause?: unknown }) {
    super('Netavark', `failed to ${verb} the network of container ${containerId.slice(0, 12)}: netavark: ${detail}`, options);
  }
}

export function isNetworkError(error: unknown, code?: NetworkErrorCode): error is NetworkError {
  return error instanceof NetworkError && (code === undefined || error.code === code);
}
