import type { ServerResponse } from 'node:http';
import type { PullEvent, PushEvent } from '@berth/layers';
import { errorMessage } from '../errors.js';
import { commonHeaders } from './http-util.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** go-units' HumanSize: decimal units, four significant digits (`32.77kB`, `1.053MB`). */
export function humanSize(n: number): string {
  let size = n;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${String(Number(size.toPrecision(4)))}${UNITS[i]!}`;
}

/** Docker's JSONProgress.String(): a 50-column bar and `current/total`. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(percentage)}>${' '.repeat(50 - percentage)}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return `${bar}${numbers}`;
}

/** One pull event as Docker's JSON message line. */
export function pullMessage(e: PullEvent): Record<string, unknown> {
  switch (e.kind) {
    case 'start':
      return { status: `Pulling from ${e.name}`, id: e.tagOrDigest };
    case 'layer':
      if (e.current !== undefined && e.total !== undefined) {
        return { status: e.status, progressDetail: { current: e.current, total: e.total }, progress: progressBar(e.current, e.total), id: e.id };
      }
      return { status: e.status, progressDetail: {}, id: e.id };
    case 'digest':
      return { status: `Digest: ${e.digest}` };
    case 'done':
      return { status: e.upToDate ? `Status: Image is up to date for ${e.ref}` : `Status: Downloaded newer image for ${e.ref}` };
  }
}

/** One push event as Docker's JSON message line(s). */
export function pushMessages(e: PushEvent): Record<string, unknown>[] {
  switch (e.kind) {
    case 'start':
      return [{ status: `The push refers to repository [${e.repository}]` }];
    case 'layer':
      if (e.current !== undefined && e.total !== undefined) {
        return [{ status: e.status, progressDetail: { current: e.current, total: e.total }, progress: progressBar(e.current, e.total), id: e.id }];
      }
      return [{ status: e.status, progressDetail: {}, id: e.id }];
    case 'done':
      return [
        { status: `${e.tag}: digest: ${e.digest} size: ${e.size}` },
        { progressDetail: {}, aux: { Tag: e.tag, Digest: e.digest, Size: e.size } },
      ];
  }
}

/**
 * A JSON-lines progress answer begun only at the first message, as
 * dockerd's: an operation that fails before it reports anything answers
 * with a plain error and its status; after that, errors go in-stream.
 */
export class ProgressStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  write(message: Record<string, unknown>): void {
    if (!this.started) {
      this.res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.write(`${JSON.stringify(message)}\n`);
  }

  get hasStarted(): boolean {
    return this.started;
  }

  /** Ends the answer; an error before the first message is rethrown for the router to answer. */
  finish(error?: unknown): void {
    if (error !== undefined && !this.started) throw error;
    if (error !== undefined) {
      const message = errorMessage(error);
      this.write({ errorDetail: { message }, error: message });
    }
    this.res.end();
  }
}
