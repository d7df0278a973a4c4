/**
 * Errors of the berth CLI. Each has a stable `code` and the exit status the
 * command ends with; docker's convention is 125 for "berth itself failed"
 * (bad flags, daemon errors), leaving 126/127 and everything else to the
 * container's own exit code.
 */

export const EXIT_BERTH_FAILED = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export type CliErrorCode =
  | 'USAGE'
  | 'DAEMON_UNREACHABLE'
  | 'DAEMON_START_FAILED'
  | 'DAEMON_ERROR'
  | 'PROTOCOL'
  | 'IO'
  | 'CREDENTIAL_HELPER'
  | 'DOCKER_CONFIG_INVALID';

export class CliError extends Error {
  readonly exitCode: number = EXIT_BERTH_FAILED;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }

  /** What the user sees on stderr. */
  render(): string {
    return `berth: ${this.message}`;
  }
}

/** A flag or argument the user gave is wrong. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** The daemon answered with an error status; shown exactly as docker shows it. */
export class DaemonError extends CliError {
  constructor(
    readonly statusCode: number,
    readonly daemonMessage: string,
  ) {
    super('DAEMON_ERROR', daemonMessage);
    this.name = 'DaemonError';
  }

  override render(): string {
    return `Error response from daemon: ${this.daemonMessage}`;
  }
}

/** Nothing answers on the socket, or the connection broke mid-request. */
export class DaemonUnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DAEMON_UNREACHABLE', message, options);
    this.name = 'DaemonUnreachableError';
  }
}

/** The background daemon could not be started or did not answer in time. */
export class DaemonStartError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DAEMON_START_FAILED', message, options);
    this.name = 'DaemonStartError';
  }
}

/** The daemon answered with something the CLI cannot read. */
export class ProtocolError extends CliError {
  constructor(message: string) {
    super('PROTOCOL', message);
    this.name = 'ProtocolError';
  }
}

/** Maps any thrown value to the line printed on stderr and the exit status. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.render(), exitCode: error.exitCode };
  const text = error instanceof Error ? error.message : String(error);
  return { message: `berth: ${text}`, exitCode: EXIT_BERTH_FAILED };
}
