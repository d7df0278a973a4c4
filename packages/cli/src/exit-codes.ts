/**
 * Exit codes as docker's: the container's own status for run/wait; 125 when
 * berth fails; 126 when the command cannot be invoked; 127 when it is not
 * found. A server that reports an exec failure as a start error (instead of
 * a wait StatusCode) is mapped the way the docker CLI maps it.
 */
import { EXIT_BERTH_FAILED, EXIT_CANNOT_INVOKE, EXIT_NOT_FOUND } from './errors.js';

export function exitCodeForStartError(message: string): number {
  const m = message.toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory') || m.includes('command not found')) return EXIT_NOT_FOUND;
  if (m.includes('permission denied') || m.includes('cannot execute') || m.includes('not executable')) return EXIT_CANNOT_INVOKE;
  return EXIT_BERTH_FAILED;
}

/** A wait StatusCode passes through; anything outside 0..255 means berth could not say, 125. */
export function exitCodeForStatus(statusCode: unknown): number {
  return typeof statusCode === 'number' && Number.isInteger(statusCode) && statusCode >= 0 && statusCode <= 255 ? statusCode : EXIT_BERTH_FAILED;
}
