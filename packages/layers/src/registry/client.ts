import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../errors.js';
import { apiHost } from './reference.js';
import { isInsecure, readBody, send, sendFollowing, type Endpoint, type Request, type TransportOptions } from './transport.js';

/** What the docker CLI sends in `X-Registry-Auth` and stores in config.json `auths` (decoded). */
export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token a registry gave at login; sent to the token service. */
  identitytoken?: string;
  /** A bearer token to use as is. */
  registrytoken?: string;
}

interface Challenge { scheme: 'basic' | 'bearer'; params: Record<string, string> }

/** `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(p[1] ?? '').toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme, params };
}

/** The registry's own error text (`{"errors":[{"code","message"}]}`), as Docker quotes it. */
export function registryErrorText(body: Buffer, status: number): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[]; details?: string };
    const first = doc.errors?.[0];
    if (first) return `${(first.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${first.message ?? ''}`.replace(/^: /, '');
    if (typeof doc.details === 'string') return doc.details;
  } catch {
    // not JSON
  }
  const text = body.toString('utf8').trim();
  return text === '' ? `HTTP ${status}` : text.slice(0, 200);
}

export interface FetchOptions {
  /** The token scope this request needs, e.g. `repository:library/busybox:pull`. */
  scope: string;
  headers?: Record<string, string>;
  body?: Buffer | NodeJS.ReadableStream;
}

/**
 * One registry (Docker registry v2 / OCI distribution), with its endpoint
 * chosen once (HTTPS; for insecure registries HTTPS without verification,
 * then HTTP) and its authentication as the registry asks for it:
 * anonymous, basic, or bearer tokens from the `WWW-Authenticate` realm,
 * cached per scope.
 */
export class RegistryClient {
  private endpoint: Endpoint | undefined;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(readonly domain: string, private readonly creds: Credentials | undefined, private readonly opts: TransportOptions = {}) {}

  /** `GET /v2/`: picks the endpoint and learns how the registry wants to be authenticated. */
  async ping(): Promise<Endpoint> {
    if (this.endpoint) return this.endpoint;
    const host = apiHost(this.domain);
    const candidates: Endpoint[] = isInsecure(this.domain, this.opts)
      ? [{ base: `https://${host}`, skipVerify: true }, { base: `http://${host}`, skipVerify: false }]
      : [{ base: `https://${host}`, skipVerify: false }];
    let lastError: unknown;
    for (const ep of candidates) {
      try {
        const res = await send({ method: 'GET', url: `${ep.base}/v2/`, skipVerify: ep.skipVerify });
        await readBody(res).catch(() => Buffer.alloc(0));
        // A plain HTTP server answering an HTTPS hello fails the TLS handshake; any HTTP answer here is the registry.
        if (res.statusCode === 401) this.challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined);
        this.endpoint = ep;
        return ep;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof RegistryError ? lastError : new RegistryError('REGISTRY_UNREACHABLE', `failed to reach registry ${this.domain}: ${String(lastError)}`);
  }

  private basicHeader(): string | undefined {
    if (this.creds?.username === undefined || this.creds.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
  }

  private async token(scope: string): Promise<string> {
    const cached = this.tokens.get(scope);
    if (cached !== undefined) return cached;
    if (this.creds?.registrytoken !== undefined) return this.creds.registrytoken;
    const realm = this.challenge?.params['realm'];
    if (realm === undefined) throw new RegistryError('REGISTRY_PROTOCOL', `registry ${this.domain} asked for a bearer token without a realm`);
    const url = new URL(realm);
    const service = this.challenge?.params['service'];
    if (service !== undefined) url.searchParams.set('service', service);
    if (scope !== '') url.searchParams.append('scope', scope);
    if (this.creds?.username !== undefined) url.searchParams.set('account', this.creds.username);
    const headers: Record<string, string> = {};
    const basic = this.basicHeader();
    if (basic !== undefined) headers['Authorization'] = basic;
    let res: IncomingMessage;
    if (this.creds?.identitytoken !== undefined && this.creds.identitytoken !== '') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identitytoken, service: service ?? '', scope, client_id: 'berth' });
      res = await send({ method: 'POST', url: realm, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), skipVerify: this.endpoint?.skipVerify ?? false });
    } else {
      res = await send({ method: 'GET', url: url.toString(), headers, skipVerify: this.endpoint?.skipVerify ?? false });
    }
    const body = await readBody(res);
    if (res.statusCode !== 200) {
      throw new RegistryError('REGISTRY_UNAUTHORIZED', `failed to get a token from ${realm}: ${registryErrorText(body, res.statusCode ?? 0)}`);
    }
    let doc: { token?: string; access_token?: string };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch (error) {
      throw new RegistryError('REGISTRY_PROTOCOL', `the token service ${realm} answered something that is not JSON`, { cause: error });
    }
    const token = doc.token ?? doc.access_token;
    if (typeof token !== 'string' || token === '') throw new RegistryError('REGISTRY_PROTOCOL', `the token service ${realm} answered no token`);
    this.tokens.set(scope, token);
    return token;
  }

  private async authorization(scope: string): Promise<string | undefined> {
    if (this.challenge?.scheme === 'bearer') return `Bearer ${await this.token(scope)}`;
    if (this.challenge?.scheme === 'basic') {
      const basic = this.basicHeader();
      if (basic === undefined) throw new RegistryError('REGISTRY_UNAUTHORIZED', 'no basic auth credentials');
      return basic;
    }
    return undefined;
  }

  /**
   * One request with authentication; a 401 with a new challenge (a token
   * that expired, a scope the registry wants differently) is retried once.
   * Redirects are followed for reads.
   */
  async fetch(method: Request['method'], path: string, opts: FetchOptions): Promise<IncomingMessage> {
    const ep = await this.ping();
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...opts.headers };
      const auth = await this.authorization(opts.scope);
      if (auth !== undefined) headers['Authorization'] = auth;
      const url = path.startsWith('http') ? path : `${ep.base}${path}`;
      const req: Request = { method, url, headers, skipVerify: ep.skipVerify, ...(opts.body === undefined ? {} : { body: opts.body }) };
      const res = method === 'GET' || method === 'HEAD' ? await sendFollowing(req, new URL(ep.base).origin) : await send(req);
      if (res.statusCode !== 401 || attempt > 0 || opts.body instanceof Object && !Buffer.isBuffer(opts.body)) return res;
      const challenge = parseChallenge(res.headers['www-authenticate'] as string | undefined);
      await readBody(res).catch(() => undefined);
      if (!challenge) return res;
      this.challenge = challenge;
      this.tokens.delete(opts.scope);
      if (challenge.scheme === 'bearer' && challenge.params['scope'] !== undefined && challenge.params['scope'] !== opts.scope) {
        // The registry names the scope it wants: ask for that one.
        this.tokens.set(opts.scope, await this.token(challenge.params['scope']));
      }
    }
  }

  /**
   * `docker login`: the credentials must open `/v2/` (basic) or get a token
   * (bearer, no scope, as Docker asks). Anonymous registries accept anyone.
   */
  async login(): Promise<void> {
    const ep = await this.ping();
    if (this.challenge === undefined) return;
    if (this.challenge.scheme === 'bearer') {
      try {
        await this.token('');
      } catch (error) {
        if (error instanceof RegistryError && error.code === 'REGISTRY_UNAUTHORIZED') throw new RegistryError('LOGIN_FAILED', error.message, { cause: error });
        throw error;
      }
      return;
    }
    const basic = this.basicHeader();
    if (basic === undefined) throw new RegistryError('REGISTRY_UNAUTHORIZED', 'no basic auth credentials');
    const res = await send({ method: 'GET', url: `${ep.base}/v2/`, headers: { Authorization: basic }, skipVerify: ep.skipVerify });
    await readBody(res).catch(() => undefined);
    if (res.statusCode !== 200) {
      throw new RegistryError('LOGIN_FAILED', `login attempt to ${ep.base}/v2/ failed with status: ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim());
    }
  }

  /** The base URL chosen by `ping` (for upload locations the registry gives relative). */
  baseUrl(): string {
    return this.endpoint?.base ?? '';
  }
}

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
