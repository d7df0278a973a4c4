/**
 * The one reader of `/proc/PID/stat` and the one parser of `mountinfo`:
 * facts every package needs (is this the same process? where is what
 * mounted, with which propagation?), read in one place.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { POLLERR, POLLPRI } from './constants.js';
import type { Syscalls } from './signatures.js';

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

/**
 * A mount table read again only when it changed: the kernel reports any
 * mount or unmount in the namespace as POLLPRI on an open mountinfo file, so
 * a look costs one `poll` with no wait, not a read and a parse (45 µs for 20
 * mounts, growing with them). The namespace is the one of `path` when the
 * table was made (for `/proc/self/mountinfo`, the process's main thread's).
 */
export class MountTable {
  readonly #fd: number;
  #mounts: MountInfo[];
  /** How many times the table was read: once at the start, then once per change seen. */
  reads = 0;

  constructor(private readonly sys: Syscalls, path = '/proc/self/mountinfo') {
    this.#fd = openSync(path, 'r');
    this.#mounts = this.#read();
  }

  /** The mounts as they are now. */
  current(): readonly MountInfo[] {
    let changed: boolean;
    try {
      changed = (this.sys.poll(this.#fd, POLLPRI, 0) & (POLLPRI | POLLERR)) !== 0;
    } catch {
      changed = true; // cannot tell (EINTR): read it
    }
    if (changed) this.#mounts = this.#read();
    return this.#mounts;
  }

  /** Mount points at or below `dir`. */
  under(dir: string): string[] {
    const prefix = `${dir}/`;
    const out: string[] = [];
    for (const m of this.current()) if (m.mountPoint === dir || m.mountPoint.startsWith(prefix)) out.push(m.mountPoint);
    return out;
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** The whole file from offset 0 (a seq file: read until it answers 0). */
  #read(): MountInfo[] {
    this.reads++;
    const chunks: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(16384);
      const n = readSync(this.#fd, chunk, 0, chunk.length, offset);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      offset += n;
    }
    return parseMountinfo(Buffer.concat(chunks).toString('utf8'));
  }
}
