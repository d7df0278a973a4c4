import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { StreamName } from './framing.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.js';

/** One record of Docker's json-file log driver. */
export interface LogRecord {
  log: string;
  stream: StreamName;
  time: string;
}

/** RFC 3339 with nanoseconds, as Docker writes them (JS clocks give ms; the rest comes from hrtime). */
export function rfc3339Nano(date = new Date()): string {
  const sub = (process.hrtime.bigint() % 1_000_000n).toString().padStart(6, '0');
  return date.toISOString().replace(/Z$/, `${sub}Z`);
}

/**
 * Split a chunk into records: one per line (keeping its "\n"), and a trailing
 * partial line as a record of its own so output without a newline is never
 * held back from an attached client.
 */
export function splitLines(chunk: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk.charCodeAt(i) === 10) {
      out.push(chunk.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < chunk.length) out.push(chunk.slice(start));
  return out;
}

/**
 * Appends records to `<id>-json.log`. Writes are synchronous so that, once a
 * chunk has been handled, it is in the file: "exited" is only declared after
 * both raw output files were converted to their end, and then everything is
 * on disk.
 */
export class JsonLogWriter {
  private fd: number;
  private size: number;
  constructor(readonly path: string, private readonly rotation: LogConfig = DEFAULT_LOG_CONFIG) {
    // The none driver keeps nothing: records are still produced (attach streams them), never written.
    if (rotation.driver === 'none') {
      this.fd = -1;
      this.size = 0;
      return;
    }
    this.fd = openSync(path, 'a+', 0o640);
    // A supervisor killed mid-append leaves a torn last line; end it here, or the
    // next record would be glued to it and be unreadable too (readLog skips the torn one).
    if (endsMidLine(this.fd)) writeSync(this.fd, '\n');
    this.size = fstatSync(this.fd).size;
  }

  write(stream: StreamName, text: string, time = rfc3339Nano()): LogRecord[] {
    const records = splitLines(text).map((log) => ({ log, stream, time }));
    if (records.length === 0 || this.fd < 0) return records;
    // One append per file: a burst of output (one chunk holds many lines) is cut at max-size
    // record by record, so no file outgrows it by more than one record.
    const { maxSize } = this.rotation;
    let pending: string[] = [];
    let pendingBytes = 0;
    for (const r of records) {
      const line = JSON.stringify(r) + '\n';
      const bytes = Buffer.byteLength(line);
      if (maxSize !== undefined && this.size + pendingBytes > 0 && this.size + pendingBytes + bytes > maxSize) {
        this.append(pending.join(''));
        this.rotate();
        pending = [];
        pendingBytes = 0;
      }
      pending.push(line);
      pendingBytes += bytes;
    }
    this.append(pending.join(''));
    return records;
  }

  private append(text: string): void {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    this.size += bytes.length;
  }

  /**
   * json-file's rotation: `log` becomes `log.1`, `log.1` becomes `log.2`…,
   * and what falls past max-file is gone; with max-file 1 the log starts
   * over. Each step is one rename, so a crash mid-way loses at most the
   * oldest file, which was going anyway.
   */
  private rotate(): void {
    closeSync(this.fd);
    for (let i = this.rotation.maxFiles - 1; i >= 1; i--) {
      const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i}`);
    }
    this.fd = openSync(this.path, this.rotation.maxFiles === 1 ? 'w+' : 'a+', 0o640);
    this.size = 0;
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

function endsMidLine(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 10;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Last N records; undefined for all. */
  tail?: number;
  /** Unix seconds (fractional); records before are skipped. */
  since?: number;
  until?: number;
}

/** Parse `tail`: "all" or empty → everything; a non-negative integer otherwise. */
export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'all') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) return undefined;
  return n;
}

/** The log's rotated files (`log.N`), oldest first, then the log itself. */
export function logFiles(path: string): string[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const rotated = names
    .filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
    .map((n) => ({ n, i: Number(n.slice(prefix.length)) }))
    .sort((a, b) => b.i - a.i)
    .map(({ n }) => join(dir, n));
  return existsSync(path) ? [...rotated, path] : rotated;
}

/** Read the records of a log, its rotated files first, that match the query (a torn line, from a crash, is skipped). */
export function readLog(path: string, q: LogQuery): LogRecord[] {
  const out: LogRecord[] = [];
  for (const file of logFiles(path)) readLogFile(file, q, out);
  if (q.tail !== undefined) return q.tail === 0 ? [] : out.slice(-q.tail);
  return out;
}

function readLogFile(path: string, q: LogQuery, out: LogRecord[]): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return; // rotated away while we listed
  }
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let rec: LogRecord;
    try {
      rec = JSON.parse(line) as LogRecord;
    } catch {
      continue;
    }
    if (!matches(rec, q)) continue;
    out.push(rec);
  }
}

export function matches(rec: LogRecord, q: LogQuery): boolean {
  if (rec.stream === 'stdout' && !q.stdout) return false;
  if (rec.stream === 'stderr' && !q.stderr) return false;
  if (q.since !== undefined || q.until !== undefined) {
    const t = Date.parse(rec.time) / 1000;
    if (q.since !== undefined && q.since > 0 && t < q.since) return false;
    if (q.until !== undefined && q.until > 0 && t > q.until) return false;
  }
  return true;
}
