/**
 * The real `bin/berth.js` (built dist) against a fake Docker API on a temp
 * unix socket: the exact requests the CLI sends, its output and exit codes.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDocker, type FakeDocker } from './fake-docker.js';

const bin = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));

interface Result { code: number | null; stdout: string; stderr: string }

function berth(args: string[], env: NodeJS.ProcessEnv = {}, stdin = '', launcher = bin): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [launcher, ...args], { env: { ...process.env, BERTH_HOST: '', BERTH_ROOT: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let sock: string;
let fake: FakeDocker | undefined;
const g = (): string[] => ['--root', path.join(dir, 'root'), '--host', `unix://${sock}`];

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../../dist/berth.bundle.cjs', import.meta.url)))) {
    throw new Error('packages/cli is not built: run npm run build (or npx tsc -b packages/cli && node packages/cli/build.mjs) first');
  }
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  sock = path.join(dir, 'api.sock');
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('berth against a Docker API server', () => {
  it('volume create/ls/rm/prune send the docker CLI requests', async () => {
    fake = await startFakeDocker(sock, { volumes: [{ Name: 'zeta', Driver: 'local' }, { Name: 'alpha', Driver: 'local' }] });
    const created = await berth([...g(), 'volume', 'create', 'v1', '--label', 'a=b']);
    expect(created).toMatchObject({ code: 0, stdout: 'v1\n' });
    const anon = await berth([...g(), 'volume', 'create']);
    expect(anon.stdout).toBe(`${'f'.repeat(64)}\n`);
    const ls = await berth([...g(), 'volume', 'ls', '-f', 'dangling=true']);
    expect(ls.stdout).toBe('DRIVER    VOLUME NAME\nlocal     alpha\nlocal     zeta\n');
    const rm = await berth([...g(), 'volume', 'rm', 'v1']);
    expect(rm).toMatchObject({ code: 0, stdout: 'v1\n' });
    const prune = await berth([...g(), 'volume', 'prune', '-a', '-f']);
    expect(prune.stdout).toBe('Deleted Volumes:\nanon1\nanon2\n\nTotal reclaimed space: 12.35kB\n');
    expect(fake.calls()).toEqual([
      'POST /volumes/create',
      'POST /volumes/create',
      `GET /volumes?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`,
      'DELETE /volumes/v1',
      `POST /volumes/prune?filters=${encodeURIComponent('{"all":{"true":true}}')}`,
    ]);
    const bodies = fake.requests.filter((r) => r.url === '/volumes/create').map((r) => JSON.parse(r.body) as unknown);
    expect(bodies).toEqual([
      { Driver: 'local', Name: 'v1', Labels: { a: 'b' }, DriverOpts: {} },
      { Driver: 'local', Labels: {}, DriverOpts: {} },
    ]);
  });

  it('daemon errors print as docker does and exit 125', async () => {
    fake = await startFakeDocker(sock);
    const rm = await berth([...g(), 'volume', 'rm', 'missing']);
    expect(rm.code).toBe(125);
    expect(rm.stderr).toBe('Error response from daemon: get missing: no such volume\n');
  });

  it("run --rm -v: create, attach (Upgrade), wait removed, start; output demuxed; exit code from StatusCode", async () => {
    fake = await startFakeDocker(sock, { exitCode: 3 });
    const result = await berth([...g(), 'run', '--rm', '-v', 'vol:/d', 'img', 'sh', '-c', 'echo hi']);
    expect(result).toEqual({ code: 3, stdout: 'hi\n', stderr: 'to stderr\n' });
    const id = 'c0ffee'.repeat(10) + 'abcd';
    expect(fake.calls()).toEqual([
      'POST /containers/create',
      `POST /containers/${id}/attach?stderr=1&stdout=1&stream=1`,
      `POST /containers/${id}/wait?condition=removed`,
      `POST /containers/${id}/start`,
    ]);
    const create = fake.requests.find((r) => r.url === '/containers/create')!;
    const body = JSON.parse(create.body) as Record<string, unknown> & { HostConfig: Record<string, unknown> };
    expect(body).toMatchObject({ Image: 'img', Cmd: ['sh', '-c', 'echo hi'], Volumes: {}, Env: null, Entrypoint: null, AttachStdout: true, AttachStderr: true });
    expect(body.HostConfig).toMatchObject({ Binds: ['vol:/d'], AutoRemove: true, NetworkMode: 'default', PidsLimit: 0, Memory: 0, MaskedPaths: null });
    const attach = fake.requests.find((r) => r.url.includes('/attach'))!;
    expect(attach.headers['upgrade']).toBe('tcp');
    expect(attach.headers['connection']).toMatch(/upgrade/i);
  });

  it('ps -a prints docker\'s table', async () => {
    // Ages far from a unit boundary, so a slow machine cannot change the text.
    const now = Math.floor(Date.now() / 1000);
    fake = await startFakeDocker(sock, {
      containers: [
        { Id: '0123456789abcdef0123', Names: ['/web'], Image: 'busybox', Command: "sh -c 'echo hello world and more'", Created: now - 3 * 3600 - 1200, State: 'running', Status: 'Up 3 hours' },
        { Id: 'fedcba9876543210fedc', Names: ['/job'], Image: 'img', Command: 'true', Created: now - 150, State: 'exited', Status: 'Exited (0) 2 minutes ago' },
      ],
    });
    const ps = await berth([...g(), 'ps', '-a']);
    expect(ps.code).toBe(0);
    expect(fake.calls()).toEqual(['GET /containers/json?all=1']);
    expect(ps.stdout).toBe([
      'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                     PORTS     NAMES',
      '0123456789ab   busybox   "sh -c \'echo hello w…"   3 hours ago     Up 3 hours                           web',
      'fedcba987654   img       "true"                   2 minutes ago   Exited (0) 2 minutes ago             job',
      '',
    ].join('\n'));
  });

  it('image import streams the archive to /images/load with ?tag=REF; volume export/clone use the /berth extensions', async () => {
    fake = await startFakeDocker(sock);
    const archive = path.join(dir, 'img.tar');
    writeFileSync(archive, Buffer.alloc(100_000, 7));
    const load = await berth([...g(), 'image', 'import', archive, 'bb:1']);
    expect(load).toMatchObject({ code: 0, stdout: 'Loaded image: bb:1 (100000 bytes)\n' });
    const piped = await berth([...g(), 'image', 'import', '-'], {}, 'abc');
    expect(piped.stdout).toBe('Loaded image: busybox:latest (3 bytes)\n');
    const out = path.join(dir, 'v1.tar');
    expect(await berth([...g(), 'volume', 'export', 'v1', '-o', out])).toMatchObject({ code: 0 });
    expect(readFileSync(out, 'utf8')).toBe('TARBYTES');
    expect(await berth([...g(), 'volume', 'clone', 'v1', 'v2'])).toMatchObject({ code: 0, stdout: 'v2\n' });
    expect(fake.calls()).toEqual([
      'POST /images/load?quiet=1&tag=bb%3A1&format=auto',
      'POST /images/load?quiet=1&format=auto',
      'GET /berth/volumes/v1/export',
      'POST /berth/volumes/v1/clone?to=v2',
    ]);
    expect(fake.requests.find((r) => r.url.startsWith('/images/load'))?.headers['content-type']).toBe('application/x-tar');
  });

  it('bad flags exit 125 with a berth: message and no request', async () => {
    fake = await startFakeDocker(sock);
    const r = await berth([...g(), 'run', '-p', '80:80:80:80', 'img']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("berth: invalid -p '80:80:80:80'");
    expect(fake.calls()).toEqual([]);
    const u = await berth([...g(), 'ps', '--bogus']);
    expect(u.code).toBe(125);
    expect(u.stderr).toContain("berth: unknown option '--bogus'");
  });
});

describe('the lean CLI (issue 16)', () => {
  const id = 'c0ffee'.repeat(10) + 'abcd';

  it('sends no /_ping when the daemon answers, and a command\'s requests one after another share one connection', async () => {
    fake = await startFakeDocker(sock);
    const rm = await berth([...g(), 'volume', 'rm', 'v1', 'missing', 'v1']);
    expect(rm.code).toBe(125);
    expect(fake.requests.map((r) => `${r.method} ${r.url} #${r.connection}`)).toEqual(['DELETE /volumes/v1 #1', 'DELETE /volumes/missing #1', 'DELETE /volumes/v1 #1']);
    expect(fake.connections()).toBe(1);
  });

  it('run -d: create and start on one connection', async () => {
    fake = await startFakeDocker(sock);
    const r = await berth([...g(), 'run', '-d', 'img']);
    expect(r).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    expect(fake.requests.map((q) => `${q.method} ${q.url} #${q.connection}`)).toEqual(['POST /containers/create #1', `POST /containers/${id}/start #1`]);
  });

  it('run --rm: the attach takes over the create\'s connection; wait and start overlap it, so each has one of its own', async () => {
    fake = await startFakeDocker(sock);
    const r = await berth([...g(), 'run', '--rm', 'img']);
    expect(r).toEqual({ code: 0, stdout: 'hi\n', stderr: 'to stderr\n' });
    expect(fake.requests.map((q) => `${q.method} ${q.url.replace(/\?.*/, '')} #${q.connection}`)).toEqual([
      'POST /containers/create #1', `POST /containers/${id}/attach #1`, `POST /containers/${id}/wait #2`, `POST /containers/${id}/start #3`,
    ]);
    expect(fake.connections()).toBe(3);
  });

  it('bin/berth.js runs the bundle alone: a copy holding only the launcher, the bundle and package.json runs a container', async () => {
    const copy = path.join(dir, 'cli');
    mkdirSync(path.join(copy, 'bin'), { recursive: true });
    mkdirSync(path.join(copy, 'dist'));
    const pkg = fileURLToPath(new URL('../../', import.meta.url));
    for (const file of ['bin/berth.js', 'bin/package.json', 'dist/berth.bundle.cjs', 'package.json']) copyFileSync(path.join(pkg, file), path.join(copy, file));
    fake = await startFakeDocker(sock, { exitCode: 7 });
    const launcher = path.join(copy, 'bin', 'berth.js');
    const first = await berth([...g(), 'run', '--rm', 'img'], {}, '', launcher);
    expect(first).toEqual({ code: 7, stdout: 'hi\n', stderr: 'to stderr\n' });
    // The first run kept V8's code cache beside the bundle; the second runs from it.
    const caches = (): string[] => readdirSync(path.join(copy, 'dist')).filter((f) => f.endsWith('.v8cache'));
    expect(caches()).toHaveLength(1);
    const covered = (): string => readFileSync(path.join(copy, 'dist', `${caches()[0]!}.commands`), 'utf8');
    expect(covered()).toBe('run\n');
    expect(await berth([...g(), '--version'], {}, '', launcher)).toEqual({ code: 0, stdout: `${(JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string }).version}\n`, stderr: '' });
    // A command the cache did not cover yet writes it again, with that command's functions added.
    expect(covered()).toBe('run\n-\n');
    expect((await berth([...g(), 'run', '--rm', 'img'], {}, '', launcher)).code).toBe(7);
    expect(covered()).toBe('run\n-\n');
  });
});

describe('starting a daemon when none answers', () => {
  it('spawns `berth --root R --host H daemon` in the background and waits for its ping', async () => {
    const marker = path.join(dir, 'daemon-args.json');
    const script = path.join(dir, 'fake-daemon.mjs');
    writeFileSync(script, `
      import http from 'node:http';
      import { writeFileSync } from 'node:fs';
      const args = process.argv.slice(2);
      writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ args, pid: process.pid }));
      const socket = args[args.indexOf('--host') + 1].slice('unix://'.length);
      const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(req.url === '/_ping' ? 'OK' : JSON.stringify({ Volumes: [{ Name: 'fromdaemon', Driver: 'local' }] }));
      });
      setTimeout(() => server.listen(socket), 300);
      setTimeout(() => process.exit(0), 20000).unref();
    `);
    const r = await berth([...g(), 'volume', 'ls', '-q'], { BERTH_DAEMON_COMMAND: JSON.stringify([process.execPath, script]) });
    const started = JSON.parse(readFileSync(marker, 'utf8')) as { args: string[]; pid: number };
    try {
      expect(r).toMatchObject({ code: 0, stdout: 'fromdaemon\n' });
      expect(started.args).toEqual(['--root', path.join(dir, 'root'), '--host', `unix://${sock}`, 'daemon']);
      expect(existsSync(path.join(dir, 'root', 'daemon.log'))).toBe(true);
    } finally {
      process.kill(started.pid, 'SIGKILL');
    }
  });

  it('reports a daemon that dies at start, pointing at its log', async () => {
    const script = path.join(dir, 'dying-daemon.mjs');
    writeFileSync(script, "console.error('berth: supervisor exploded'); process.exit(1);");
    const r = await berth([...g(), 'ps'], { BERTH_DAEMON_COMMAND: JSON.stringify([process.execPath, script]) });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('supervisor exploded');
    expect(r.stderr).toContain(path.join(dir, 'root', 'daemon.log'));
  });
});
