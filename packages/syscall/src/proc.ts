/**
 * The one reader of `/proc/PID/stat` and the one parser of `mountinfo`:
 * facts every package needs (is this the same process? where is what
 * mounted, with which propagation?), read in one place.
 */
import { readFileSync } from 'node:fs';

/** The fields of `/proc/PID/stat` berth reads. */
export interface ProcStat {
  pid: number;
  /** The command name (field 2, without its parentheses; it may hold spaces and parentheses). */
  comm: string;
  /** R, S, D, Z, X, T ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  /** User and system CPU time, clock ticks. */
  utime: number;
  stime: number;
  /** Start time in clock ticks since boot (field 22): with the pid, it identifies a process across pid reuse. */
  startTime: number;
}

/** `/proc/PID/stat` parsed, or undefined when the process is gone. */
export function readProcStat(pid: number | string, procRoot = '/proc'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

export function parseProcStat(text: string): ProcStat | undefined {
  // comm (field 2) may hold spaces and parentheses: the other fields start after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  const n = (i: number): number => Number(f[i]);
  const stat: ProcStat = {
    pid: Number(text.slice(0, text.indexOf(' '))), comm: text.slice(text.indexOf('(') + 1, close), state: f[0] ?? '',
    ppid: n(1), pgrp: n(2), session: n(3), ttyNr: n(4), utime: n(11), stime: n(12), startTime: n(19),
  };
  return Number.isFinite(stat.startTime) ? stat : undefined;
}

/**
 * The start time of a live process (zombies and dead ones count as gone), or
 * undefined. Compare it with a recorded one before signalling a recorded pid.
 */
export function processStartTime(pid: number): number | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const stat = readProcStat(pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return undefined;
  return stat.startTime;
}

/** One line of `/proc/PID/mountinfo`, its escapes (`\040` for a space) undone. */
export interface MountInfo {
  id: number;
  parent: number;
  /** Where in its filesystem the mount starts (`/` or a bind's subdirectory). */
  root: string;
  mountPoint: string;
  options: string;
  /** Optional fields: `shared:N`, `master:N`, `propagate_from:N`, `unbindable`. */
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 10 || separator < 6) continue;
    out.push({
      id: Number(fields[0]), parent: Number(fields[1]), root: unescape(fields[3]!), mountPoint: unescape(fields[4]!),
      options: fields[5]!, optional: fields.slice(6, separator), fstype: fields[separator + 1] ?? '',
      source: unescape(fields[separator + 2] ?? ''), superOptions: fields[separator + 3] ?? '',
    });
  }
  return out;
}

/** This process's (or thread's) mount table. */
export function readMountinfo(path = '/proc/self/mountinfo'): MountInfo[] {
  return parseMountinfo(readFileSync(path, 'utf8'));
}
