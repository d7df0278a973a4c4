import type { KindedError } from '@berth/syscall';

/** Stable codes for cgroup failures, so callers can branch without parsing messages. */
export type CgroupErrorCode =
  | 'CGROUP_UNSUPPORTED'
  | 'CGROUP_INVALID_ID'
  | 'CGROUP_NOT_OURS'
  | 'CGROUP_CONTROLLER_UNAVAILABLE'
  | 'CGROUP_WRITE_FAILED'
  | 'CGROUP_CREATE_FAILED'
  | 'CGROUP_BUSY'
  | 'CGROUP_REMOVE_FAILED'
  | 'CGROUP_RENAME_FAILED'
  | 'CGROUP_FREEZE_FAILED'
  | 'CGROUP_NO_CPUSET';

/**
 * A failed cgroup operation; the message reads "failed to <verb> <object>: ...".
 * Every code is the machine's or berth's failure, kind `system`, except a cpuset
 * asked of a running container that has none (a conflict with its state).
 */
export class CgroupError extends Error implements KindedError {
  override readonly name = 'CgroupError';
  get kind(): 'system' | 'conflict' {
    return this.code === 'CGROUP_NO_CPUSET' ? 'conflict' : 'system';
  }

  constructor(
    readonly code: CgroupErrorCode,
    message: string,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The errno name of a Node fs error (`EBUSY`), or undefined. */
export function fsCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
