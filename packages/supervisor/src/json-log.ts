import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import type { StreamName } from './framing.js';

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
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a+', 0o640);
    // A supervisor killed mid-append leaves a torn last line; end it here, or the
    // next record would be glued to it and be unreadable too (readLog skips the torn one).
    if (endsMidLine(this.fd)) writeSync(this.fd, '\n');
  }

  write(stream: StreamName, text: string, time = rfc3339Nano()): LogRecord[] {
    const records = splitLines(text).map((log) => ({ log, stream, time }));
    if (records.length > 0 && this.fd >= 0) {
      const bytes = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
      for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    }
    return records;
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

/** Read the records of a log file that match the query (a torn last line, from a crash, is skipped). */
export function readLog(path: string, q: LogQuery): LogRecord[] {
  if (!existsSync(path)) return [];
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
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
  if (q.tail !== undefined) return q.tail === 0 ? [] : out.slice(-q.tail);
  return out;
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
