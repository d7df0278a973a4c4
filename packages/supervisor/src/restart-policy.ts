/**
 * `--restart` (HostConfig.RestartPolicy), as moby's restart manager decides
 * it: pure functions of the policy and what happened, so the lifecycle only
 * schedules what these say.
 */
import { InvalidParameterError } from './errors.js';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only; 0 means no limit. */
  maximumRetryCount: number;
}

export const NO_RESTART: RestartPolicy = { name: 'no', maximumRetryCount: 0 };

/** The first delay before a restart, doubled each time up to a minute; back to it after a run of 10 s. */
export const RESTART_BACKOFF = { initialMs: 100, maxMs: 60_000, resetAfterRunMs: 10_000 } as const;

const NAMES: readonly string[] = ['no', 'always', 'unless-stopped', 'on-failure'];

/** Validates `HostConfig.RestartPolicy` with moby's messages; absent or `Name: ""` is `no`. */
export function parseRestartPolicy(raw: unknown): RestartPolicy {
  if (raw === undefined || raw === null) return NO_RESTART;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InvalidParameterError('invalid JSON in request body: HostConfig.RestartPolicy must be an object');
  }
  const { Name: name = '', MaximumRetryCount: count = 0 } = raw as { Name?: unknown; MaximumRetryCount?: unknown };
  if (typeof name !== 'string' || typeof count !== 'number' || !Number.isInteger(count)) {
    throw new InvalidParameterError('invalid restart policy: Name must be a string and MaximumRetryCount a whole number');
  }
  // moby accepts any count without a name, for old clients.
  if (name === '') return NO_RESTART;
  if (!NAMES.includes(name)) {
    throw new InvalidParameterError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name === 'on-failure') {
    if (count < 0) throw new InvalidParameterError('invalid restart policy: maximum retry count cannot be negative');
  } else if (count !== 0) {
    throw new InvalidParameterError(
      `invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`,
    );
  }
  return { name: name as RestartPolicyName, maximumRetryCount: count };
}

export interface ExitFacts {
  exitCode: number;
  /** Restarts the policy already made since the container was last started by a user. */
  restartCount: number;
  /** `stop` (or a `restart`'s stop) ended it: only `always` comes back, and only when a supervisor starts. */
  manuallyStopped: boolean;
}

/** Whether the policy restarts a container after this exit (moby's ShouldRestart). */
export function shouldRestart(policy: RestartPolicy, facts: ExitFacts): boolean {
  switch (policy.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !facts.manuallyStopped;
    case 'on-failure':
      return facts.exitCode !== 0 && (policy.maximumRetryCount === 0 || facts.restartCount < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** The wait before the next restart, given the previous one (0: none yet) and how long the last run lasted. */
export function nextRestartDelay(previousMs: number, ranForMs: number): number {
  if (previousMs === 0 || ranForMs >= RESTART_BACKOFF.resetAfterRunMs) return RESTART_BACKOFF.initialMs;
  return Math.min(previousMs * 2, RESTART_BACKOFF.maxMs);
}
