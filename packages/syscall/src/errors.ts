import { constants, } from 'node:os';
import type { SyscallName } from './signatures.js';

/**
 * What kind of failure an error is, in the closed vocabulary every berth
 * package shares (moby's errdefs): each package's error classes carry one,
 * decided from their stable `code` in that package's errors.ts, and the API
 * maps kinds, never codes or messages, onto HTTP statuses in one table.
 * `system` is a failure of the machine or a bug: never the client's fault.
 */
export type ErrorKind =
  | 'invalid-parameter'
  | 'not-found'
  | 'conflict'
  | 'not-modified'
  | 'not-implemented'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'too-large'
  | 'system';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'invalid-parameter', 'not-found', 'conflict', 'not-modified', 'not-implemented', 'unauthorized', 'forbidden', 'unavailable', 'too-large', 'system',
];

/** An error that says what kind of failure it is. */
export interface KindedError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
}

/** The kind of any thrown value: its own when it has one of the vocabulary, else `system`. */
export function errorKind(error: unknown): ErrorKind {
  const kind = typeof error === 'object' && error !== null && 'kind' in error ? (error as { kind: unknown }).kind : undefined;
  return ERROR_KINDS.includes(kind as ErrorKind) ? (kind as ErrorKind) : 'system';
}

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** The symbolic name of an errno number (`EBUSY`), or `E<number>` if unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** The errno number for a symbolic name, for tests that inject failures. */
export function errnoNumber(name: string): number {
  const value = (constants.errno as Record<string, number | undefined>)[name];
  if (value === undefined) throw new TypeError(`unknown errno name: ${name}`);
  return value;
}

const descriptions: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'path escapes the allowed root',
  ENOTDIR: 'not a directory',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links, or a symlink where none is allowed',
  ENODATA: 'no such attribute',
  ENOSYS: 'not implemented by this kernel',
  EAGAIN: 'resource temporarily unavailable',
  ESRCH: 'no such process',
  ENODEV: 'no such device or filesystem type',
};

/**
 * A failed kernel call: which call, which errno, which paths. The message
 * reads "failed to <call> <paths>: <ERRNO> (<description>)".
 */
export class SyscallError extends Error implements KindedError {
  override readonly name = 'SyscallError';
  readonly code: string;
  /** A kernel call that fails is the machine's failure; packages that expect an errno catch it and say what it means. */
  readonly kind = 'system';

  constructor(
    readonly syscall: SyscallName | string,
    readonly errno: number,
    readonly paths: readonly string[] = [],
  ) {
    const code = errnoName(errno);
    const what = paths.length > 0 ? ` ${paths.join(' -> ')}` : '';
    super(`failed to ${syscall}${what}: ${code} (${descriptions[code] ?? `errno ${errno}`})`);
    this.code = code;
  }
}

export function isSyscallError(error: unknown, code?: string): error is SyscallError {
  return error instanceof SyscallError && (code === undefined || error.code === code);
}
