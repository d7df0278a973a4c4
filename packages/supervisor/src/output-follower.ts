import { EventEmitter } from 'node:events';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, type Syscalls } from '@berth/syscall';
import { closeSync, constants as fsc, type FSWatcher, fstatSync, openSync, readFileSync, readSync, renameSync, watch, writeFileSync } from 'node:fs';
import { errorMessage } from './errors.js';
import type { StreamName } from './framing.js';
import { JsonLogWriter, type LogRecord } from './json-log.js';
import type { LogConfig } from './log-config.js';
import type { ContainerPaths } from './stdio.js';

/** How far each raw file has been converted into the log, in bytes. */
export type Offsets = Record<StreamName, number>;

const STREAMS: readonly StreamName[] = ['stdout', 'stderr'];
/** One positional read; also the most converted into one log append. */
const CHUNK = 64 * 1024;
/** Per stream and pass, so one chatty container cannot hold the event loop. */
const MAX_PER_PASS = 4 * 1024 * 1024;
/** A line without its newline is held back up to this long (unless it is this big), so a line read mid-write stays one record. */
const MAX_HELD_BYTES = 16 * 1024;
/** Converted output is given back to the disk in steps of this much (see `release`). */
const RELEASE_STEP = 1024 * 1024;

export function readOffsets(path: string): Offsets {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<Offsets>;
    const n = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
    return { stdout: n(o.stdout), stderr: n(o.stderr) };
  } catch {
    return { stdout: 0, stderr: 0 };
  }
}

/** Temp file + rename: a crash leaves the old offsets or the new ones, never a torn file. */
export function writeOffsets(path: string, o: Offsets): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(o), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * How many of the first `n` bytes end on a character boundary: a UTF-8
 * sequence cut by the end of a read is left for the next one, so it is not
 * turned into replacement characters.
 */
export function utf8Boundary(buf: Buffer, n: number): number {
  let i = n - 1;
  while (i >= 0 && n - i <= 4 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < 0 || n - i > 4) return n; // no lead byte nearby: not UTF-8 anyway
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i < need ? i : n;
}

interface StreamState {
  name: StreamName;
  path: string;
  fd: number;
  /** The partial line held back: at which offset and file size it was first seen, and when. */
  held?: { offset: number; size: number; since: number };
  /** Bytes from the start already given back to the disk (holes); -1 when the filesystem cannot. */
  released: number;
}

export interface FollowerOptions {
  /** Poll period (fs.watch gives the low latency; polling catches what it misses). */
  pollMs?: number;
  /** The log driver and json-file's rotation (`--log-driver`, `--log-opt max-size/max-file`). */
  log?: LogConfig;
  /** With it, converted output is punched out of the raw files, so they take no disk beyond what is not yet in the log. */
  syscalls?: Syscalls;
}

/**
 * Follows a container's raw stdout and stderr files into its json-file log,
 * from the offsets saved by the last conversion (so a restarted supervisor
 * picks up exactly where the previous one stopped, including output written
 * while no supervisor ran). Emits 'record' (LogRecord) for every record
 * written and 'end' once `finish()` has converted everything.
 *
 * Crash safety: each chunk is appended to the log first and its offsets are
 * saved after. A crash between the two converts that chunk again after the
 * restart (it is in the log twice); a crash can never make a chunk skipped.
 */
export class OutputFollower extends EventEmitter {
  private readonly writer: JsonLogWriter;
  private readonly offsets: Offsets;
  private readonly streams: StreamState[] = [];
  private readonly watchers: FSWatcher[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly pollMs: number;
  private readonly syscalls: Syscalls | undefined;
  private readonly buf = Buffer.alloc(CHUNK);
  private scheduled = false;
  private stopped = false;
  private finished = false;

  constructor(private readonly paths: ContainerPaths, opts: FollowerOptions = {}) {
    super();
    this.pollMs = opts.pollMs ?? 100;
    this.offsets = readOffsets(paths.offsets);
    this.writer = new JsonLogWriter(paths.log, opts.log);
    this.syscalls = opts.syscalls;
    for (const name of STREAMS) {
      const path = paths[name];
      let fd = -1;
      try {
        // Read-write only to punch holes; the supervisor never writes to them.
        fd = openSync(path, this.syscalls ? fsc.O_RDWR : fsc.O_RDONLY);
      } catch (err) {
        // Only if something else deleted it: what it held is lost, the rest of the lifecycle still works.
        console.error(`berth: failed to open the ${name} of the container in ${paths.dir}: ${errorMessage(err)}; its output is lost`);
      }
      this.streams.push({ name, path, fd, released: 0 });
      if (fd < 0) continue;
      try {
        const w = watch(path, { persistent: false }, () => this.schedule());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // Out of inotify watches: the poll below still converts, only later.
      }
    }
    this.timer = setInterval(() => this.pass(false), this.pollMs);
    this.timer.unref();
    this.schedule();
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Append a record as if the container had written it (berth's own messages, e.g. why a command did not run). */
  record(stream: StreamName, text: string): void {
    if (this.finished) return;
    for (const rec of this.writer.write(stream, text)) this.emit('record', rec satisfies LogRecord);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pass(false);
    });
  }

  /** Convert what is new in both files; `final` converts to the very end, partial lines and all. */
  private pass(final: boolean): void {
    if (this.stopped) return;
    try {
      for (const s of this.streams) {
        if (s.fd >= 0 && this.convert(s, final) && !final) this.schedule();
      }
    } catch (err) {
      // Left where it was: the next pass (or the next supervisor) tries again from the saved offsets.
      console.error(`berth: failed to convert the output in ${this.paths.dir}: ${errorMessage(err)}`);
    }
  }

  /** Returns true when it stopped early with more to convert. */
  private convert(s: StreamState, final: boolean): boolean {
    let done = 0;
    for (;;) {
      const offset = this.offsets[s.name];
      const size = fstatSync(s.fd).size;
      if (size <= offset) return false;
      if (!final && done >= MAX_PER_PASS) return true;
      const n = readSync(s.fd, this.buf, 0, Math.min(CHUNK, size - offset), offset);
      if (n <= 0) return false;
      // At the very end of a final pass everything goes, a cut character or not: nothing more will come.
      const take = !final ? this.convertible(s, n, offset, size) : offset + n === size ? n : utf8Boundary(this.buf, n);
      if (take <= 0) return false;
      // Log first, offsets second: see the class comment.
      this.record(s.name, this.buf.toString('utf8', 0, take));
      this.offsets[s.name] = offset + take;
      writeOffsets(this.paths.offsets, this.offsets);
      this.release(s);
      delete s.held;
      done += take;
      // A partial line held back at the end waits for the next pass; a cut inside the file reads on.
      if (take < n && offset + n === size) return false;
    }
  }

  /**
   * Give back the disk under what is in the log (and its offset saved): the
   * container only appends, so the start of its raw file can become a hole.
   * Without this a long-running container's raw files grow without end, and
   * log rotation would bound nothing.
   */
  private release(s: StreamState): void {
    if (!this.syscalls || s.released < 0) return;
    const upTo = Math.floor(this.offsets[s.name] / RELEASE_STEP) * RELEASE_STEP;
    if (upTo <= s.released) return;
    try {
      this.syscalls.fallocate(s.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, upTo);
      s.released = upTo;
    } catch {
      s.released = -1; // a filesystem without holes: the file keeps its blocks until the container exits
    }
  }

  /**
   * How much of a read to convert now. At the current end of the file a
   * partial last line waits briefly for its newline (the writer may be
   * mid-write); a prompt without one still shows after a poll period or two.
   */
  private convertible(s: StreamState, n: number, offset: number, size: number): number {
    const nl = this.buf.lastIndexOf(10, n - 1);
    if (nl === n - 1) return n;
    const atEnd = offset + n === size;
    if (!atEnd) return nl >= 0 ? nl + 1 : utf8Boundary(this.buf, n);
    const wholeLines = nl + 1;
    const tail = n - wholeLines;
    const now = Date.now();
    const tailOffset = offset + wholeLines;
    if (s.held?.offset !== tailOffset || s.held.size !== size) s.held = { offset: tailOffset, size, since: now };
    const flush = tail >= MAX_HELD_BYTES || now - s.held.since >= this.pollMs;
    return flush ? utf8Boundary(this.buf, n) : wholeLines;
  }

  private stopFollowing(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const w of this.watchers) w.close();
    for (const s of this.streams) {
      if (s.fd >= 0) closeSync(s.fd);
      s.fd = -1;
    }
  }

  /**
   * The container is gone (its init exited, and with it every process of
   * its pid namespace): convert both files to their end, add berth's own
   * last words, close the log and emit 'end'.
   */
  finish(lastWords?: string): void {
    if (this.finished) return;
    try {
      for (const s of this.streams) if (s.fd >= 0) this.convert(s, true);
    } catch (err) {
      console.error(`berth: failed to convert the output in ${this.paths.dir}: ${errorMessage(err)}`);
    }
    this.stopFollowing();
    if (lastWords) this.record('stderr', lastWords);
    this.finished = true;
    this.writer.close();
    this.emit('end');
  }

  /** Stop following without waiting for the end (supervisor shutdown: the container keeps running and writing). */
  detach(): void {
    this.stopFollowing();
    this.finished = true;
    this.writer.close();
  }
}
