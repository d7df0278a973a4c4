import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { ExitStatus } from './runtime-types.js';

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, n]) => [n, name]),
);

export function signalName(n: number): string {
  return signalNames.get(n) ?? `SIG${n}`;
}

/**
 * The status line the container init writes to its status file just before
 * it exits (see init/berth-init.c):
 *   exited N | signaled N | exec-failed ERRNO MSG | setup-failed STEP ERRNO MSG
 * Returns undefined when the file holds no complete line (the init was
 * killed before it could write, e.g. by SIGKILL).
 */
export function parseStatusLine(text: string, oomKilled = false): ExitStatus | undefined {
  const line = text.split('\n')[0]?.trim();
  if (!line || !text.includes('\n')) return undefined;
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

/** Reads an init status file; undefined when it is missing or incomplete. */
export function readStatusFile(path: string, oomKilled = false): ExitStatus | undefined {
  try {
    return parseStatusLine(readFileSync(path, 'utf8'), oomKilled);
  } catch {
    return undefined;
  }
}

/**
 * The status of a process whose status file says nothing: derived from how
 * the init itself ended (as the parent saw it), Docker-style 128+signal.
 */
export function statusFromWait(code: number | null, signal: string | null, oomKilled: boolean): ExitStatus {
  if (signal) {
    const n = (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
    return { exitCode: 128 + n, signal, oomKilled };
  }
  return { exitCode: code ?? 255, oomKilled };
}

/** Process start time in clock ticks since boot (/proc/PID/stat field 22), or undefined if gone. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}
