import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { RegistryError } from '../errors.js';

/** Where the system keeps its CA bundle (Debian's ca-certificates); Node's own bundle otherwise. */
const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
let systemCa: Buffer | undefined | null = null;
function systemCas(): Buffer | undefined {
  if (systemCa === null) systemCa = existsSync(SYSTEM_CA_FILE) ? readFileSync(SYSTEM_CA_FILE) : undefined;
  return systemCa;
}

export interface TransportOptions {
  /** Registries (`host[:port]` or CIDR such as `10.0.0.0/8`) spoken to as Docker's `insecure-registries`. */
  insecureRegistries?: readonly string[];
}

export interface Endpoint {
  /** `https://host` or `http://host`. */
  base: string;
  /** TLS without verifying the certificate (insecure registries). */
  skipVerify: boolean;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  if (net === undefined || bits === undefined || isIP(net) !== 4 || isIP(ip) !== 4) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

/**
 * Docker's rule: 127.0.0.0/8 (and `localhost`, ::1) and the configured
 * insecure registries are tried over HTTPS without verification first,
 * then plain HTTP; everything else is TLS verified with the system's CAs.
 */
export function isInsecure(domain: string, opts: TransportOptions): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host === '::1' || inCidr(host, '127.0.0.0/8')) return true;
  for (const entry of opts.insecureRegistries ?? []) {
    if (entry === domain || entry === host) return true;
    if (entry.includes('/') && inCidr(host, entry)) return true;
  }
  return false;
}

export interface Request {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | NodeJS.ReadableStream;
  skipVerify: boolean;
}

/** One HTTP exchange; the response body is left to the caller (read it, or `resume()` it). */
export function send(req: Request): Promise<http.IncomingMessage> {
  const url = new URL(req.url);
  const secure = url.protocol === 'https:';
  const mod = secure ? https : http;
  const ca = secure && !req.skipVerify ? systemCas() : undefined;
  return new Promise((resolve, reject) => {
    const r = mod.request(url, {
      method: req.method,
      headers: { 'User-Agent': 'berth', ...req.headers },
      ...(secure ? { rejectUnauthorized: !req.skipVerify, ...(ca ? { ca } : {}) } : {}),
    }, resolve);
    r.on('error', (error) => reject(new RegistryError('REGISTRY_UNREACHABLE', `${req.method} ${JSON.stringify(req.url)}: ${error.message}`, { cause: error })));
    if (req.body === undefined) r.end();
    else if (Buffer.isBuffer(req.body)) r.end(req.body);
    else req.body.pipe(r);
  });
}

/** GET/HEAD with redirects followed (blob stores answer 307 to elsewhere; credentials stay with the registry). */
export async function sendFollowing(req: Request, origin: string): Promise<http.IncomingMessage> {
  let current = req;
  for (let hops = 0; hops < 6; hops++) {
    const res = await send(current);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || location === undefined) return res;
    res.resume();
    const next = new URL(location, current.url);
    const headers = { ...current.headers };
    if (next.origin !== origin) delete headers['Authorization'];
    current = { ...current, url: next.toString(), headers };
  }
  throw new RegistryError('REGISTRY_PROTOCOL', `${req.method} ${JSON.stringify(req.url)}: too many redirects`);
}

export async function readBody(res: http.IncomingMessage, limit = 16 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > limit) {
      res.destroy();
      throw new RegistryError('REGISTRY_PROTOCOL', `the registry's answer is over ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
