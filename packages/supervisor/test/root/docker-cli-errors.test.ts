/**
 * What the docker CLI shows of berth's statuses and filters, with the real
 * Runtime behind a supervisor child process: refused mounts are 400s, not
 * 500s; `ps` ANDs label filters; paths berth lacks are Docker's 404 or 501.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot, hostMountTable } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describeRoot('docker CLI against berth: statuses and filters', () => {
  let root: string;
  let socketPath: string;
  let daemon: ChildProcess;
  let mountsBefore: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const docker = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env() });
  const status = (method: string, path: string, body?: string): Promise<{ status: number; message: string }> => new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: (JSON.parse(Buffer.concat(chunks).toString() || '{}') as { message?: string }).message ?? '' }));
    });
    req.on('error', reject);
    req.end(body);
  });

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-cli-errors-'));
    socketPath = join(root, 'berth.sock');
    const code = `import { runDaemon } from '@berth/supervisor';\nawait runDaemon({ root: ${JSON.stringify(root)}, socketPath: ${JSON.stringify(socketPath)} });\n`;
    daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
    for (let i = 0; i < 200 && !(existsSync(socketPath) && await new Docker({ socketPath }).ping().then(() => true, () => false)); i++) await sleep(50);
    writeFileSync(join(root, 'busybox.tar'), await busyboxImageArchive());
    await docker('image', 'load', '-i', join(root, 'busybox.tar'));
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
    expect(hostMountTable()).toBe(mountsBefore);
  });

  it('a duplicate mount point is Docker\'s 400 with its message, whichever way the mounts come', async () => {
    await expect(docker('create', '-v', '/tmp:/x', '-v', '/var:/x', 'berth-test/busybox', 'true')).rejects.toMatchObject({
      stderr: expect.stringContaining('Duplicate mount point: /x'),
    });
    for (const hostConfig of [
      { Binds: ['/tmp:/x', '/var:/x'] },
      { Mounts: [{ Type: 'tmpfs', Target: '/x' }, { Type: 'tmpfs', Target: '/x' }] },
      { Binds: ['/tmp:/x'], Tmpfs: { '/x': '' } },
    ]) {
      expect(await status('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'berth-test/busybox', Cmd: ['true'], HostConfig: hostConfig })))
        .toEqual({ status: 400, message: 'Duplicate mount point: /x' });
    }
    expect(await status('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'berth-test/busybox', HostConfig: { Mounts: [{ Type: 'bogus', Target: '/x' }] } })))
      .toEqual({ status: 400, message: 'invalid mount config for type "bogus": mount type unknown' });
    expect((await docker('ps', '-aq')).stdout).toBe('');
  });

  it('docker ps ANDs two --filter label=, as docker-compose expects', async () => {
    await docker('create', '--name', 'both', '-l', 'p=1', '-l', 's=1', 'berth-test/busybox', 'true');
    await docker('create', '--name', 'one', '-l', 'p=1', '-l', 's=2', 'berth-test/busybox', 'true');
    const ps = async (...filters: string[]): Promise<string[]> =>
      (await docker('ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f]))).stdout.split('\n').filter(Boolean).sort();
    expect(await ps('label=p=1', 'label=s=1')).toEqual(['both']);
    expect(await ps('label=p=1')).toEqual(['both', 'one']);
    expect(await ps('name=both', 'name=one')).toEqual(['both', 'one']);
    expect(await ps('name=^/?o', 'label=p')).toEqual(['one']);
    expect(await ps('status=created', 'label=s=2')).toEqual(['one']);
    await expect(docker('ps', '--filter', 'status=sleeping')).rejects.toMatchObject({ stderr: expect.stringContaining("Invalid filter 'status=sleeping'") });
    await docker('rm', 'both', 'one');
  });

  it('docker-compose 1.29: ps lists each service once, and run --rm removes only its one-off container', async () => {
    const dir = join(root, 'compose');
    mkdirSync(dir);
    writeFileSync(join(dir, 'docker-compose.yml'), [
      'version: "2.4"',
      'services:',
      ...['web', 'db'].flatMap((svc) => [`  ${svc}:`, '    image: berth-test/busybox', '    command: sleep 300', '    network_mode: none']),
      '',
    ].join('\n'));
    const compose = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
      run('docker-compose', ['-p', 'errp', ...args], { env: env(), cwd: dir });
    await compose('up', '-d');
    try {
      const services = async (): Promise<string[]> => (await compose('ps', '--services')).stdout.split('\n').filter(Boolean).sort();
      expect(await services()).toEqual(['db', 'web']);
      expect((await compose('run', '--rm', 'web', 'echo', 'one-off')).stdout).toContain('one-off');
      // The service's own container is still there and running; the one-off is gone.
      expect((await docker('ps', '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean).sort()).toEqual(['errp_db_1', 'errp_web_1']);
      expect((await docker('ps', '-a', '--format', '{{.Names}}')).stdout.split('\n').filter(Boolean).sort()).toEqual(['errp_db_1', 'errp_web_1']);
    } finally {
      await compose('down', '-t', '0');
    }
    expect((await docker('ps', '-aq')).stdout).toBe('');
  });

  it('a Docker command berth lacks says so; an unknown path is Docker\'s 404', async () => {
    await expect(docker('swarm', 'init')).rejects.toMatchObject({ stderr: expect.stringContaining('berth does not implement POST /swarm/init') });
    expect(await status('GET', '/v1.41/no/such/path')).toEqual({ status: 404, message: 'page not found' });
  });
});
