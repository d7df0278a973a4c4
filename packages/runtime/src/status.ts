import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { ExitStatus } from './runtime-types.js';

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, n]) => [n, name]),
);

export function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

/** Where a container runs, as its shim recorded it (the status file's first line). */
export interface ShimState {
  /** The shim outside the container: the parent of its PID 1, the holder of its status. */
  shim: { pid: number; startTime: number };
  /** The container's PID 1 as the host sees it. */
  pid: number;
  startTime: number;
}

/**
 * The shim's first line, written before the container runs anything:
 *   shim SHIM_PID SHIM_START PID PID_START
 * Undefined when the file has none (the shim never got that far).
 */
export function parseShimState(text: string): ShimState | undefined {
  const m = /^shim (\d+) (\d+) (\d+) (\d+)\n/.exec(text);
  if (!m) return undefined;
  return { shim: { pid: Number(m[1]), startTime: Number(m[2]) }, pid: Number(m[3]), startTime: Number(m[4]) };
}

/** The shim state in a status file; undefined when it is missing or has none. */
export function readShimState(path: string): ShimState | undefined {
  try {
    return parseShimState(readFileSync(path, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * The final status line the shim writes to its status file (after its
 * `shim ...` line) once the container has exited (see init/berth-init.c):
 *   exited N | signaled N | exec-failed ERRNO MSG | setup-failed STEP ERRNO MSG
 * Returns undefined when the file holds no complete final line (the
 * container still runs, or the shim was killed before it could write).
 */
export function parseStatusLine(text: string, oomKilled = false): ExitStatus | undefined {
  const lines = text.split('\n');
  // The last element follows the last newline: never a complete line.
  const line = lines.slice(0, -1).find((l) => !l.startsWith('shim '))?.trim();
  if (!line) return undefined;
  const [kind, ...rest] = line.split(' ');
  switch (kind) {
    case 'exited':
      return { exitCode: Number(rest[0]), oomKilled };
    case 'signaled': {
      const n = Number(rest[0]);
      return { exitCode: 128 + n, signal: signalName(n), oomKilled };
    }
    case 'exec-failed': {
      const errno = rest[0] ?? 'EIO';
      const notFound = errno === 'ENOENT' || errno === 'ENOTDIR';
      return { exitCode: notFound ? 127 : 126, error: `exec failed: ${rest.slice(1).join(' ') || errno}`, oomKilled };
    }
    case 'setup-failed':
      return { exitCode: 125, error: `container init failed: ${rest.join(' ')}`, oomKilled };
    default:
      return undefined;
  }
}

/** Reads a shim's status file; undefined when it is missing or has no final line yet. */
export function readStatusFile(path: string, oomKilled = false): ExitStatus | undefined {
  try {
    return parseStatusLine(readFileSync(path, 'utf8'), oomKilled);
  } catch {
    return undefined;
  }
}

/**
 * The status of a process whose status file says nothing: derived from how
 * the shim itself ended (as the parent saw it), Docker-style 128+signal.
 */
export function statusFromWait(code: number | null, signal: string | null, oomKilled: boolean): ExitStatus {
  if (signal) {
    const n = (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
    return { exitCode: 128 + n, signal, oomKilled };
  }
  return { exitCode: code ?? 255, oomKilled };
}

/** Process start time: @berth/syscall's one reader of /proc/PID/stat. */
export { processStartTime } from '@berth/syscall';
