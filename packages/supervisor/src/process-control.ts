import { constants as osc } from 'node:os';
import { processStartTime, type Syscalls } from '@berth/syscall';
import { InvalidParameterError } from './errors.js';

export function isSameProcess(pid: number, startTime: number): boolean {
  return processStartTime(pid) === startTime;
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
    if (processStartTime(pid) !== startTime) return false;
    syscalls.pidfdSendSignal(pidfd, signal);
    return true;
  } catch {
    return false;
  } finally {
    try { syscalls.close(pidfd); } catch { /* already closed */ }
  }
}
