/** Errors of the benchmark suite, each with a stable `code`. */
export class BenchError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
  }
}

export class UsageError extends BenchError {
  constructor(message: string) {
    super('Usage', message);
    this.name = 'UsageError';
  }
}

/** A launch that was timed did not exit 0: its time would mean nothing. */
export class LaunchFailedError extends BenchError {
  constructor(what: string, detail: string) {
    super('LaunchFailed', `failed to run ${what}: ${detail}`);
    this.name = 'LaunchFailedError';
  }
}

export class MountLeakError extends BenchError {
  constructor(detail: string) {
    super('MountLeak', `failed to leave the host mount table unchanged: ${detail}; remove the listed mounts by hand (they are under the bench's temp dir)`);
    this.name = 'MountLeakError';
  }
}
