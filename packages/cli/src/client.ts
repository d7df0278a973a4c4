/**
 * A small Docker Engine API client over node:http and a unix socket. The
 * CLI talks to the supervisor only through this, so anything that speaks the
 * Docker API (berth's supervisor, dockerd) can stand behind it. Paths are
 * unversioned: the server accepts those as dockerd does.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { DaemonError, DaemonUnreachableError, ProtocolError } from './errors.js';

export type QueryValue = string | number | boolean | undefined | null;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** JSON-serialised into the body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A streamed body (archives), sent chunked; excludes `body`. */
  stream?: Readable;
}

export interface Response<T> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: T;
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** Docker's query encoding: booleans as `1`, false/undefined/null left out. */
export function buildPath(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === false) continue;
    params.append(key, value === true ? '1' : String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** Docker filter encoding as the docker CLI sends it: `{"k":{"v":true}}`. */
export function encodeFilters(pairs: readonly string[]): string | undefined {
  if (pairs.length === 0) return undefined;
  const filters: Record<string, Record<string, boolean>> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    (filters[key] ??= {})[value] = true;
  }
  return JSON.stringify(filters);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Turns an error response into a DaemonError carrying the server's `message`. */
export async function errorFromResponse(res: IncomingMessage): Promise<DaemonError> {
  const raw = (await readAll(res)).toString('utf8').trim();
  let message = raw;
  try {
    const parsed = JSON.parse(raw) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: show the raw text
  }
  if (message === '') message = `${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim();
  return new DaemonError(res.statusCode ?? 0, message);
}

export interface ApiClientOptions {
  /**
   * Called when the first connection finds nothing listening (no socket, or
   * connection refused): it starts a daemon, and the request is sent again.
   * So a command whose daemon runs sends no `/_ping` first.
   */
  onUnreachable?: () => Promise<void>;
}

/** No socket, or nothing accepts on it: nothing was sent, so a request may be sent again. */
function nothingListens(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

export class ApiClient {
  /** One keep-alive agent: a command's requests that do not overlap share one connection. */
  private readonly agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  /** A response or upgrade arrived once: the daemon runs, errors from now on are not "start one". */
  private reached = false;
  private starting: Promise<void> | undefined;

  constructor(readonly socketPath: string, private readonly options: ApiClientOptions = {}) {}

  /** Closes the connections this client keeps open (hijacked streams excepted: they belong to their command). */
  close(): void {
    this.agent.destroy();
  }

  private connectionError(error: unknown): Error {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = code === 'ENOENT' ? 'no socket there' : code === 'ECONNREFUSED' ? 'nothing listens there' : code === 'EACCES' ? 'permission denied (run as root or get access to the socket)' : (error as Error).message;
    return new DaemonUnreachableError(
      `cannot connect to the berth daemon at unix://${this.socketPath}: ${reason}; start one with \`berth daemon\` or pass --host unix://PATH`,
      { cause: error },
    );
  }

  /**
   * Request options shared by every request: the one agent, and `servername:
   * ''` because a unix socket has no TLS name (node would otherwise derive one
   * from the host, compiling its IPv6 regex on the first request).
   */
  private requestOptions(method: string, path: string, headers: Record<string, string>): http.RequestOptions {
    // node reads `servername` from these options (its agent's normalizeServerName); @types/node does not declare it.
    const options: http.RequestOptions & { servername: string } = { socketPath: this.socketPath, method, path, headers, agent: this.agent, servername: '' };
    return options;
  }

  /**
   * Sends `attempt` and, while no daemon has answered yet and nothing listens,
   * lets `onUnreachable` start one and sends it again. A streamed body cannot
   * be sent twice, so then the daemon is made sure of first (`/_ping`).
   */
  private async reach<T>(attempt: () => Promise<T>, canResend: boolean): Promise<T> {
    const start = this.options.onUnreachable;
    if (start === undefined || this.reached) return attempt();
    if (!canResend) {
      if (!(await this.ping())) await this.startOnce(start);
      return attempt();
    }
    try {
      return await attempt();
    } catch (error) {
      if (this.reached || !(error instanceof DaemonUnreachableError) || !nothingListens(error.cause)) throw error;
      await this.startOnce(start);
      return attempt();
    }
  }

  private startOnce(start: () => Promise<void>): Promise<void> {
    this.starting ??= start();
    return this.starting;
  }

  /** Sends a request and resolves with the response once its headers arrive (body unread). */
  open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    return this.reach(() => this.send(method, path, options), options.stream === undefined);
  }

  private send(method: string, path: string, options: RequestOptions): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      let payload: Buffer | undefined;
      if (options.body !== undefined) {
        payload = Buffer.from(JSON.stringify(options.body));
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(payload.length);
      }
      const req = http.request(this.requestOptions(method, buildPath(path, options.query), headers));
      req.on('error', (error) => reject(this.connectionError(error)));
      req.on('response', (res) => {
        this.reached = true;
        resolve(res);
      });
      if (options.stream !== undefined) {
        options.stream.on('error', (error) => req.destroy(error));
        options.stream.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  /** A request whose body is read whole; errors (status >= 400) become DaemonError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
    const res = await this.open(method, path, options);
    if ((res.statusCode ?? 0) >= 400) throw await errorFromResponse(res);
    const raw = await readAll(res);
    let body: unknown = undefined;
    if (raw.length > 0 && String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ProtocolError(`the daemon sent invalid JSON for ${method} ${path}; check that --host points at a berth or docker daemon`);
      }
    } else if (raw.length > 0) {
      body = raw.toString('utf8');
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: body as T };
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).body;
  }

  /** A streaming response (logs, export, load); errors become DaemonError. */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.open(method, path, options);
    if ((res.statusCode ?? 0) >= 400) throw await errorFromResponse(res);
    return res;
  }

  /** True when a daemon answers `GET /_ping`; false when nothing listens. */
  async ping(): Promise<boolean> {
    try {
      const res = await this.send('GET', '/_ping', {});
      res.resume();
      return (res.statusCode ?? 0) < 500;
    } catch (error) {
      if (error instanceof DaemonUnreachableError) return false;
      throw error;
    }
  }

  /**
   * Attaches to a container's stdout/stderr as the docker CLI does:
   * `Upgrade: tcp`, answered by 101 (the raw socket carries the stream); a
   * server that answers a plain 200 streams in the body instead. With
   * `stdin`, what is written to the returned socket goes to the container.
   */
  attach(id: string, opts: { stdin?: boolean; detachKeys?: string } = {}): Promise<Readable | Duplex> {
    return this.hijack(`/containers/${encodeURIComponent(id)}/attach`, {
      stderr: true, stdout: true, stream: true, ...(opts.stdin === true ? { stdin: true } : {}), ...(opts.detachKeys ? { detachKeys: opts.detachKeys } : {}),
    });
  }

  /** `POST /exec/{id}/start` hijacked, as `docker exec` does: the stream both ways. */
  execStart(id: string, tty: boolean): Promise<Readable | Duplex> {
    return this.hijack(`/exec/${encodeURIComponent(id)}/start`, {}, { Detach: false, Tty: tty });
  }

  private hijack(path: string, query: Record<string, string | boolean | number | undefined>, body?: unknown): Promise<Readable | Duplex> {
    return this.reach(() => new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(this.requestOptions('POST', buildPath(path, query), {
        Connection: 'Upgrade', Upgrade: 'tcp',
        ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}),
      }));
      req.on('error', (error) => reject(this.connectionError(error)));
      req.on('upgrade', (_res, socket, head) => {
        this.reached = true;
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        this.reached = true;
        if ((res.statusCode ?? 0) >= 400) errorFromResponse(res).then(reject, reject);
        else resolve(res);
      });
      req.end(payload);
    }), true);
  }

  /**
   * `POST /containers/{id}/wait`: resolves once the response headers arrive
   * (the server flushes them at once, and `start` must only follow that), with
   * a promise of the exit status that settles when the condition holds.
   */
  async wait(id: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<{ result: Promise<WaitResult> }> {
    const res = await this.stream('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
    const result = readAll(res).then((raw) => {
      try {
        return JSON.parse(raw.toString('utf8')) as WaitResult;
      } catch {
        throw new ProtocolError(`the daemon ended the wait for ${id} without an exit status; check \`berth ps -a\``);
      }
    });
    // Marks the promise handled: a failed start must not surface as an unhandled rejection.
    result.catch(() => undefined);
    return { result };
  }
}
