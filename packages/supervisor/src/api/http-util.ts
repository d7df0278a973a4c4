import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage, httpStatusFor, InvalidParameterError, PayloadTooLargeError } from '../errors.js';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const BERTH_VERSION = '0.1.0';
export const MAX_BODY_BYTES = 1024 * 1024;

/** `1.41` < `1.9`? No: API versions compare number by number. */
function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** dockerd's version middleware: a `/vX.Y/` prefix outside the versions berth speaks is a 400, with its texts. */
export function checkApiVersion(rawUrl: string): void {
  const m = /^\/v([0-9.]+)\//.exec(rawUrl);
  if (!m) return;
  const v = m[1]!;
  if (compareVersions(v, MIN_API_VERSION) < 0) {
    throw new InvalidParameterError(`client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(v, API_VERSION) > 0) {
    throw new InvalidParameterError(`client version ${v} is too new. Maximum supported API version is ${API_VERSION}`);
  }
}

/** Headers every response carries (the docker CLI negotiates its version from Api-Version). */
export function commonHeaders(): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'Ostype': 'linux', 'Server': `berth/${BERTH_VERSION} (linux)`, 'Docker-Experimental': 'false' };
}

/** Docker's query booleans: "", "0", "no", "false", "none" are false; anything else (present) is true. */
export function queryBool(value: string | null | undefined, fallback = false): boolean {
  if (value === null || value === undefined) return fallback;
  return !['', '0', 'no', 'false', 'none'].includes(value.trim().toLowerCase());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, commonHeaders());
  res.end();
}

/** Docker's error shape. Content-Type must be exactly `application/json`, or the CLI prints raw JSON. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = httpStatusFor(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 304) {
    sendEmpty(res, 304);
    return;
  }
  // The daemon's log gets what is berth's or the machine's fault, not a client's request for what berth lacks.
  if (status >= 500 && status !== 501) console.error(`berth: ${errorMessage(err)}`);
  sendJson(res, status, { message: errorMessage(err) });
}

/** Read a size-limited body; an empty body is undefined, malformed JSON a 400. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidParameterError(`invalid JSON in request body: ${errorMessage(err)}`);
  }
}

/** Optional object fields of a JSON body, type-checked. */
export function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new InvalidParameterError(`invalid JSON in request body: ${key} must be a string`);
  return v;
}

export function optionalStringMap(obj: Record<string, unknown>, key: string): Record<string, string> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new InvalidParameterError(`invalid JSON in request body: ${key} must be an object of strings`);
  }
  return v as Record<string, string>;
}

export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidParameterError(`invalid JSON in request body: ${what} must be an object`);
  }
  return body as Record<string, unknown>;
}

/** `t=N` style integer parameters; a non-integer is a 400. */
export function queryInt(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidParameterError(`invalid value for ${name}: ${JSON.stringify(value)} is not an integer`);
  return n;
}

/** A terminal dimension of `resize` (`h` or `w`): a whole number from 1 to 65535. */
export function queryDimension(query: URLSearchParams, key: 'h' | 'w'): number {
  const raw = query.get(key) ?? '';
  const n = Number(raw);
  if (raw === '' || !Number.isInteger(n) || n <= 0 || n > 0xffff) {
    throw new InvalidParameterError(`invalid resize ${key === 'h' ? 'height' : 'width'} ${JSON.stringify(raw)}: give ${key}= as a whole number from 1 to 65535`);
  }
  return n;
}
