import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidParameterError } from '../errors.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
}

export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  params: string[];
  query: URLSearchParams;
}

type Handler = (ctx: RouteContext) => Promise<void> | void;
type UpgradeHandler = (ctx: UpgradeContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/** Docker accepts every `/vX.Y/` prefix and unversioned paths alike. */
export function stripVersion(path: string): string {
  return path.replace(/^\/v\d+(\.\d+)?(?=\/)/, '');
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
  match(method: string, rawUrl: string): { handler: Handler; params: string[]; query: URLSearchParams } | { unserved: string } {
    const url = requestUrl(rawUrl);
    const path = stripVersion(url.pathname);
    for (const r of this.routes) {
      if (r.method !== method && !(r.method === 'GET' && method === 'HEAD')) continue;
      const m = r.pattern.exec(path);
      if (m) return { handler: r.handler, params: m.slice(1).map(decodeParam), query: url.searchParams };
    }
    return { unserved: path };
  }

  matchUpgrade(rawUrl: string): { handler: UpgradeHandler; params: string[]; query: URLSearchParams } | { unserved: string } {
    const url = requestUrl(rawUrl);
    const path = stripVersion(url.pathname);
    for (const u of this.upgrades) {
      const m = u.pattern.exec(path);
      if (m) return { handler: u.handler, params: m.slice(1).map(decodeParam), query: url.searchParams };
    }
    return { unserved: path };
  }
}
