import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { API_VERSION } from './http-util.js';
import { InvalidParameterError } from '../errors.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  /** The API version the client asked for (`/v1.41/...`); unversioned paths mean the current one. */
  apiVersion: string;
}

export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  params: string[];
  query: URLSearchParams;
  apiVersion: string;
}

type Handler = (ctx: RouteContext) => Promise<void> | void;
type UpgradeHandler = (ctx: UpgradeContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const VERSION_PREFIX = /^\/v(\d+(?:\.\d+)?)(?=\/)/;

/** Docker accepts every `/vX.Y/` prefix and unversioned paths alike; unversioned means the current version. */
export function splitVersion(path: string): { path: string; apiVersion: string } {
  const m = VERSION_PREFIX.exec(path);
  return m ? { path: path.slice(m[0].length), apiVersion: m[1]! } : { path, apiVersion: API_VERSION };
}

export function stripVersion(path: string): string {
  return splitVersion(path).path;
}

/** Compares API versions as Docker does (`versions.LessThan`): numerically, part by part. */
export function apiVersionBefore(version: string, than: string): boolean {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** A path parameter, URL-decoded; a malformed escape (`%ZZ`) is the client's error, as Go's server says 400. */
function decodeParam(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '');
  } catch {
    throw new InvalidParameterError(`invalid escape in request path: ${JSON.stringify(raw)}`);
  }
}

/** The request target as a URL; a target that is none is the client's error. */
function requestUrl(rawUrl: string): URL {
  try {
    return new URL(rawUrl, 'http://berth');
  } catch {
    throw new InvalidParameterError(`invalid request target: ${JSON.stringify(rawUrl)}`);
  }
}

/** A tiny method + regex router; captures become `params`, URL-decoded. */
export class Router {
  private readonly routes: Route[] = [];
  private readonly upgrades: { pattern: RegExp; handler: UpgradeHandler }[] = [];

  on(method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  onUpgrade(pattern: RegExp, handler: UpgradeHandler): this {
    this.upgrades.push({ pattern, handler });
    return this;
  }

  /** The route for METHOD and URL, or the unversioned path no route serves. */
  match(method: string, rawUrl: string): { handler: Handler; params: string[]; query: URLSearchParams; apiVersion: string } | { unserved: string } {
    const url = requestUrl(rawUrl);
    const { path, apiVersion } = splitVersion(url.pathname);
    for (const r of this.routes) {
      if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
      const m = r.pattern.exec(path);
      if (m) return { handler: r.handler, params: m.slice(1).map(decodeParam), query: url.searchParams, apiVersion };
    }
    return { unserved: path };
  }

  matchUpgrade(rawUrl: string): { handler: UpgradeHandler; params: string[]; query: URLSearchParams; apiVersion: string } | { unserved: string } {
    const url = requestUrl(rawUrl);
    const { path, apiVersion } = splitVersion(url.pathname);
    for (const u of this.upgrades) {
      const m = u.pattern.exec(path);
      if (m) return { handler: u.handler, params: m.slice(1).map(decodeParam), query: url.searchParams, apiVersion };
    }
    return { unserved: path };
  }
}
