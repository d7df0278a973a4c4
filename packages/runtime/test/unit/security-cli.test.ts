// What the real docker CLI sends for the security flags, fed to the
// resolver: a small API endpoint on a unix socket records the create body
// (it is not berth's server, which the lead wires to resolveSecurity).
import { spawnSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecurityConfigError } from '../../src/errors.js';
import { KNOWN_LAST_CAP, resolveSecurity, type SecurityHostConfig } from '../../src/security/index.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
if (!hasDocker) console.warn('[security-cli] skipping: the docker CLI is not installed (tools/quickstart.sh installs it on CI)');

let dir = '';
let sock = '';
let server: Server;
let lastBody: { HostConfig?: SecurityHostConfig } = {};

/** Runs `docker create FLAGS busybox` against the recording endpoint; the HostConfig it sent. */
async function hostConfigFor(flags: string[]): Promise<SecurityHostConfig> {
  lastBody = {};
  const child = spawn('docker', ['-H', `unix://${sock}`, 'create', ...flags, 'busybox'], { env: { ...process.env, DOCKER_CONFIG: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, err).toBe(0);
  return lastBody.HostConfig ?? {};
}

describe.skipIf(!hasDocker)('the docker CLI\'s security flags, resolved', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-sec-cli-'));
    sock = join(dir, 'api.sock');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        res.setHeader('Api-Version', '1.41');
        res.setHeader('Content-Type', 'application/json');
        if (req.url?.includes('/containers/create')) {
          lastBody = JSON.parse(body) as typeof lastBody;
          res.statusCode = 201;
          res.end(JSON.stringify({ Id: 'a'.repeat(64), Warnings: [] }));
          return;
        }
        res.end(req.url?.endsWith('/_ping') ? 'OK' : '{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const CTX = { lastCap: KNOWN_LAST_CAP };

  it('--cap-drop ALL --cap-add SYS_ADMIN leaves exactly CAP_SYS_ADMIN', async () => {
    const r = resolveSecurity(await hostConfigFor(['--cap-drop', 'ALL', '--cap-add', 'SYS_ADMIN']), CTX);
    expect(r.capabilities.names).toEqual(['CAP_SYS_ADMIN']);
  });

  it('--privileged: every capability, unconfined, no masked paths', async () => {
    const r = resolveSecurity(await hostConfigFor(['--privileged']), CTX);
    expect(r.capabilities.names).toHaveLength(KNOWN_LAST_CAP + 1);
    expect(r).toMatchObject({ privileged: true, seccomp: { kind: 'unconfined' }, maskedPaths: [], readonlyPaths: [] });
  });

  it('--security-opt seccomp=FILE sends the file\'s JSON, which becomes the custom profile', async () => {
    const file = join(dir, 'profile.json');
    writeFileSync(file, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]\n}\n');
    const r = resolveSecurity(await hostConfigFor(['--security-opt', `seccomp=${file}`]), CTX);
    expect(r.seccomp.kind).toBe('custom');
    expect(JSON.parse((r.seccomp as { profile: string }).profile)).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }] });
  });

  it('seccomp=unconfined, no-new-privileges, systempaths=unconfined, --group-add, --oom-score-adj, --ulimit, --sysctl', async () => {
    const r = resolveSecurity(await hostConfigFor([
      '--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges', '--security-opt', 'systempaths=unconfined',
      '--group-add', 'audio', '--group-add', '1234', '--oom-score-adj', '-500', '--ulimit', 'nofile=1024:2048', '--sysctl', 'net.ipv4.ip_forward=1',
    ]), CTX);
    expect(r).toMatchObject({
      seccomp: { kind: 'unconfined' }, noNewPrivileges: true, maskedPaths: [], readonlyPaths: [], groupAdd: ['audio', '1234'], oomScoreAdj: -500,
      ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }], sysctls: [{ key: 'net.ipv4.ip_forward', value: '1' }],
    });
  });

  it('--security-opt bogus=1 reaches the daemon and is refused with Docker\'s message', async () => {
    const host = await hostConfigFor(['--security-opt', 'bogus=1']);
    expect(() => resolveSecurity(host, CTX)).toThrow(new SecurityConfigError('invalid-security-opt', 'invalid --security-opt 2: "bogus=1"', 'SecurityOpt'));
  });

  it('--network host --sysctl net.* is refused', async () => {
    const host = await hostConfigFor(['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1']);
    expect(() => resolveSecurity(host, CTX)).toThrow('sysctl "net.ipv4.ip_forward" not allowed in host network namespace');
  });
});
