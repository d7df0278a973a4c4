import { constants, } from 'node:os';
import type { SyscallName } from './signatures.js';

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
export class SyscallError extends Error {
  override readonly name = 'SyscallError';
  readonly code: string;

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
