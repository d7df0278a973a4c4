/**
 * `docker top`: the processes of a container, as `ps -ef` shows them on the
 * host (host pids, as Docker's), read from /proc: every process in the
 * pid namespace of the container's init.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { uptime } from 'node:os';
import { readProcStat } from '@berth/syscall';

export const TOP_TITLES = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'] as const;

/** USER_HZ: /proc reports times in these ticks, 100 on every Linux Docker runs on. */
const TICKS = 100;

function uidOf(pid: string): string {
  try {
    return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** The controlling terminal as ps names it: pts/N, ttyN, or "?". */
function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return `tty${minor}`;
  return '?';
}

function hhmmss(ticks: number): string {
  const s = Math.floor(ticks / TICKS);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** ps's STIME: HH:MM today, else the month and day. */
function startedAt(startTicks: number, now = Date.now()): string {
  const started = new Date(now - (uptime() - startTicks / TICKS) * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (new Date(now).toDateString() === started.toDateString()) return `${two(started.getHours())}:${two(started.getMinutes())}`;
  return `${started.toLocaleString('en-US', { month: 'short' })}${two(started.getDate())}`;
}

function pidNamespace(pid: number | string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The rows of `docker top` for the container whose init is `initPid`; undefined when the init is gone. */
export function containerProcesses(initPid: number): string[][] | undefined {
  const ns = pidNamespace(initPid);
  if (ns === undefined) return undefined;
  const rows: { pid: number; row: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || (Number(name) !== initPid && pidNamespace(name) !== ns)) continue;
    const stat = readProcStat(name);
    if (!stat) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    } catch { /* gone meanwhile */ }
    rows.push({
      pid: Number(name),
      row: [uidOf(name), name, String(stat.ppid), '0', startedAt(stat.startTime), ttyName(stat.ttyNr), hhmmss(stat.utime + stat.stime), cmd || `[${stat.comm}]`],
    });
  }
  return rows.sort((a, b) => a.pid - b.pid).map((r) => r.row);
}
