// A real registry for tests: Debian's docker-registry (distribution 2.8) on
// 127.0.0.1 with a temporary config and storage, open, with htpasswd basic
// auth, or with token auth from a small token issuer in this process (the
// registry checks the JWT's x5c chain against its rootcertbundle, and wants
// iss, aud = the service name and access claims). Images go in with skopeo.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  dir: string;
  user?: string;
  password?: string;
  /** How many token requests the issuer answered (token mode). */
  tokenRequests(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const r = request(url, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    r.on('error', () => resolve(0));
    r.end();
  });
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

interface Issuer { server: Server; port: number; count: number }

/** The token service: basic credentials checked against user/password; anonymous callers get no access. */
async function startIssuer(dir: string, service: string, user: string, password: string): Promise<Issuer & { certPath: string }> {
  const keyPath = join(dir, 'issuer.key');
  const certPath = join(dir, 'issuer.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=berth-test-issuer'], { stdio: 'ignore' });
  const key: KeyObject = createPrivateKey(readFileSync(keyPath));
  const der = Buffer.from(readFileSync(certPath, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const issuer: Issuer = { server: createServer(), port: 0, count: 0 };
  issuer.server.on('request', (req, res) => {
    issuer.count++;
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : '';
    if (auth !== '' && decoded !== `${user}:${password}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (auth === '' || type === undefined || name === undefined) return [];
      return [{ type, name, actions: (actions ?? '').split(',').filter((a) => a === 'pull' || a === 'push') }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = {
      iss: 'berth-test-issuer', sub: auth === '' ? '' : user, aud: url.searchParams.get('service') ?? service,
      exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => issuer.server.listen(0, '127.0.0.1', r));
  issuer.port = (issuer.server.address() as AddressInfo).port;
  return Object.assign(issuer, { certPath });
}

/**
 * Starts a registry; stop() ends it by pid and removes its directory. With
 * `schema1` it also accepts (signed) schema 1 manifests, which distribution
 * 2.8 refuses by default.
 */
export async function startRegistry(opts: { auth?: 'none' | 'basic' | 'token'; schema1?: boolean } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const user = 'berth';
  const password = `pw-${randomBytes(4).toString('hex')}`;
  let authYaml = '';
  let issuer: (Issuer & { certPath: string }) | undefined;
  if (opts.auth === 'basic') {
    const line = execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    issuer = await startIssuer(dir, 'berth-test-registry', user, password);
    authYaml = `auth:\n  token:\n    realm: http://127.0.0.1:${issuer.port}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: ${issuer.certPath}\n`;
  }
  const config = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(8).toString('hex')}\n${authYaml}${opts.schema1 === true ? 'compatibility:\n  schema1:\n    enabled: true\n' : ''}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    if (issuer) await new Promise<void>((r) => issuer.server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    const status = await get(`http://127.0.0.1:${port}/v2/`);
    if (status === 200 || status === 401) {
      const reg: TestRegistry = { host: `127.0.0.1:${port}`, dir, tokenRequests: () => issuer?.count ?? 0, stop };
      if (opts.auth === 'basic' || opts.auth === 'token') { reg.user = user; reg.password = password; }
      return reg;
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`docker-registry did not start: ${stderr.trim()}`);
}

/**
 * `skopeo copy SRC docker://HOST/REPO --dest-tls-verify=false` (with the
 * registry's credentials if it has them). Asynchronous: the token issuer
 * answers skopeo from this process's event loop.
 */
export async function skopeoPush(reg: TestRegistry, source: string, repoTag: string, opts: { format?: 'v2s1' | 'v2s2' | 'oci' } = {}): Promise<void> {
  const args = ['copy', '-q', source, `docker://${reg.host}/${repoTag}`, '--dest-tls-verify=false'];
  // v2s1: a schema 1 manifest, signed by skopeo with a throwaway key.
  if (opts.format !== undefined) args.push('--format', opts.format);
  if (reg.user !== undefined) args.push('--dest-creds', `${reg.user}:${reg.password ?? ''}`);
  const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`skopeo copy ${source} failed: ${stderr.trim()}`);
}

/** `skopeo inspect --raw` of a manifest in the registry (async for the same reason). */
export async function skopeoRawManifest(reg: TestRegistry, repoTag: string): Promise<Buffer> {
  const args = ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${repoTag}`];
  if (reg.user !== undefined) args.push('--creds', `${reg.user}:${reg.password ?? ''}`);
  const child = spawn('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`skopeo inspect ${repoTag} failed`);
  return Buffer.concat(out);
}
