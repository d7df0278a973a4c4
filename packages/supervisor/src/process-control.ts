import { readFileSync } from 'node:fs';
import { constants as osc } from 'node:os';
import type { Syscalls } from '@berth/syscall';
import { InvalidParameterError } from './errors.js';

/**
 * The start time (clock ticks since boot, /proc/PID/stat field 22) of a live
 * process, or undefined when it is gone or a zombie. With the pid it
 * identifies a process across supervisor restarts: a reused pid has a
 * different start time.
 */
export function readStartTime(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return undefined;
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

export function isSameProcess(pid: number, startTime: number): boolean {
  return readStartTime(pid) === startTime;
}

/** A signal given as a name ("TERM", "SIGTERM", "sigkill") or a number ("9"); Docker's parsing. */
export function parseSignal(value: string | number | undefined, fallback = 'SIGKILL'): number {
  const raw = value === undefined || value === '' ? fallback : String(value);
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = raw.toUpperCase().startsWith('SIG') ? raw.toUpperCase() : `SIG${raw.toUpperCase()}`;
    const n = (osc.signals as Record<string, number | undefined>)[name];
    if (n !== undefined) return n;
  }
  throw new InvalidParameterError(`Invalid signal: ${raw}`);
}

/**
 * Send a signal to the process identified by pid + start time, never to a
 * process that merely reuses the pid: through a pidfd, whose identity is
 * checked after opening it. Returns false when the process is gone.
 */
export function signalProcess(syscalls: Syscalls, pid: number, startTime: number, signal: number): boolean {
  let pidfd: number;
  try {
    pidfd = syscalls.pidfdOpen(pid, 0);
  } catch {
    return false;
  }
  try {
    if (readStartTime(pid) !== startTime) return false;
    syscalls.pidfdSendSignal(pidfd, signal);
    return true;
  } catch {
    return false;
  } finally {
    try { syscalls.close(pidfd); } catch { /* already closed */ }
  }
}
