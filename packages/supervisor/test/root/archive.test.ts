/**
 * `docker cp` and the archive endpoints end to end: the docker CLI and
 * dockerode against a real supervisor, both directions, running and stopped
 * containers, volumes and binds, and Docker's errors.
 */
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Supervisor } from '../../src/index.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot, hostMountTable } from '@berth/testing';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describeRoot('docker cp and the archive endpoints (docker CLI, dockerode)', () => {
  let root: string;
  let work: string;
  let sup: Supervisor;
  let docker: Docker;
  let mountsBefore: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${sup.socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const cli = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env(), encoding: 'utf8' });
  const cliError = (...args: string[]): Promise<string> =>
    cli(...args).then(() => { throw new Error(`docker ${args.join(' ')} succeeded`); }, (e: { stderr: string }) => e.stderr);

  function call(method: string, path: string, body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: sup.socketPath, method, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async function entriesOf(archive: Buffer): Promise<string[]> {
    const names: string[] = [];
    const x = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      x.on('entry', (h, stream, next) => { names.push(h.type === 'symlink' ? `${h.name} -> ${h.linkname}` : h.name); stream.resume(); stream.on('end', next); });
      x.on('finish', resolve);
      x.on('error', reject);
    });
    x.end(archive);
    await done;
    return names;
  }

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    root = mkdtempSync(join(tmpdir(), 'berth-cp-'));
    work = join(root, 'work');
    mkdirSync(work);
    sup = await Supervisor.start({ root: join(root, 'state'), socketPath: join(root, 'berth.sock'), workers: 1 });
    docker = new Docker({ socketPath: sup.socketPath });
    await docker.loadImage(Buffer.from(await busyboxImageArchive()) as unknown as NodeJS.ReadableStream).then((s) => new Promise((r) => (s as NodeJS.ReadableStream).on('end', r).resume()));
  });

  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
    await sup.close();
    rmSync(root, { recursive: true, force: true });
    // Other tenants of this machine (the reference dockerd) mount and unmount meanwhile: compare what is ours.
    const ours = (table: string): string[] => table.split('\n').filter((l) => l.includes(root));
    expect(ours(hostMountTable())).toEqual(ours(mountsBefore));
  });

  it('copies out of and into a running container, a volume and a bind (docker CLI)', async () => {
    const bind = join(work, 'bind');
    mkdirSync(bind);
    writeFileSync(join(bind, 'from-host'), 'host\n');
    await cli('run', '-d', '--name', 'live', '-v', 'cpvol:/vol', '-v', `${bind}:/bind`, 'berth-test/busybox',
      'sh', '-c', 'mkdir -p /data/sub && echo one > /data/sub/f && ln -s sub/f /data/link && echo v > /vol/inside && sleep 300');
    for (let i = 0; i < 100 && !(await cli('exec', 'live', 'ls', '/vol/inside').then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
    await cli('cp', 'live:/data', join(work, 'out'));
    expect(readFileSync(join(work, 'out/sub/f'), 'utf8')).toBe('one\n');
    expect(readlinkSync(join(work, 'out/link'))).toBe('sub/f');
    await cli('cp', 'live:/vol/inside', join(work, 'inside'));
    expect(readFileSync(join(work, 'inside'), 'utf8')).toBe('v\n');
    await cli('cp', 'live:/bind/from-host', join(work, 'via-bind'));
    expect(readFileSync(join(work, 'via-bind'), 'utf8')).toBe('host\n');
    // -L follows the link, inside the container.
    await cli('cp', '-L', 'live:/data/link', join(work, 'followed'));
    expect(readFileSync(join(work, 'followed'), 'utf8')).toBe('one\n');

    writeFileSync(join(work, 'up'), 'up\n');
    chownSync(join(work, 'up'), 1234, 5678);
    await cli('cp', join(work, 'up'), 'live:/vol/');
    await cli('cp', join(work, 'up'), 'live:/data/renamed');
    await cli('cp', '-a', join(work, 'up'), 'live:/data/owned');
    await cli('cp', join(work, 'up'), 'live:/bind/');
    expect(readFileSync(join(bind, 'up'), 'utf8')).toBe('up\n');
    const listing = (await cli('exec', 'live', 'sh', '-c', 'cat /vol/up /data/renamed; ls -n /data/renamed /data/owned')).stdout;
    expect(listing).toContain('up\nup\n');
    expect(listing).toMatch(/ 0 +0 .*\/data\/renamed/);
    expect(listing).toMatch(/ 1234 +5678 .*\/data\/owned/);
  });

  it('works on a stopped container, through its volumes too', async () => {
    await cli('run', '--name', 'done', '-v', 'cpvol2:/vol', 'berth-test/busybox', 'sh', '-c', 'echo kept > /vol/k; echo root > /r');
    await cli('cp', 'done:/vol/k', join(work, 'k'));
    expect(readFileSync(join(work, 'k'), 'utf8')).toBe('kept\n');
    writeFileSync(join(work, 'in'), 'in\n');
    await cli('cp', join(work, 'in'), 'done:/vol/in');
    await cli('cp', join(work, 'in'), 'done:/');
    await cli('start', '-a', 'done').catch(() => undefined);
    await cli('cp', 'done:/vol/in', join(work, 'in-back'));
    expect(readFileSync(join(work, 'in-back'), 'utf8')).toBe('in\n');
    // The volume holds it: another container sees it.
    expect((await cli('run', '--rm', '-v', 'cpvol2:/v', 'berth-test/busybox', 'cat', '/v/in')).stdout).toBe('in\n');
  });

  it('HEAD and GET send X-Docker-Container-Path-Stat as Docker does (dockerode)', async () => {
    // dockerode's infoArchive is this HEAD; it hands back the raw response.
    const res = (await docker.getContainer('live').infoArchive({ path: '/bin/sh' })) as unknown as { headers: Record<string, string> };
    const stat = JSON.parse(Buffer.from(res.headers['x-docker-container-path-stat']!, 'base64').toString()) as
      { name: string; mode: number; size: number; linkTarget: string; mtime: string };
    expect(stat).toMatchObject({ name: 'sh', size: 7, linkTarget: '/bin/busybox' });
    expect(stat.mode).toBe(0x8000000 + 0o777); // Go's os.ModeSymlink | 0777
    expect(stat.mtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const dir = await call('GET', '/containers/live/archive?path=/data/.');
    expect(dir.status).toBe(200);
    expect(dir.headers['content-type']).toBe('application/x-tar');
    const header = JSON.parse(Buffer.from(String(dir.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; mode: number };
    expect(header.name).toBe('.');
    expect(header.mode).toBe(2 ** 31 + 0o755);
    expect(await entriesOf(dir.body)).toEqual(expect.arrayContaining(['./', './sub/', './sub/f', './link -> sub/f']));
    const top = await call('GET', '/containers/live/archive?path=/data/');
    expect((await entriesOf(top.body))[0]).toBe('data/');
    expect(statSync(join(work, 'out')).isDirectory()).toBe(true);
  });

  it('docker diff: A, C and D from the writable layer, whiteouts and opaque directories', async () => {
    await cli('run', '--name', 'changed', '-v', 'diffvol:/vol', 'berth-test/busybox', 'sh', '-c',
      'echo x > /tmp/new; rm /bin/ls; mkdir -p /etc/newdir; echo v > /vol/not-a-change; rm -rf /bin; mkdir /bin; ln -s /tmp /bin/sh');
    const lines = (await cli('diff', 'changed')).stdout.trim().split('\n');
    expect(lines).toEqual(expect.arrayContaining(['C /tmp', 'A /tmp/new', 'A /etc', 'A /etc/newdir', 'C /bin', 'C /bin/sh', 'D /bin/busybox', 'D /bin/cat']));
    expect(lines).not.toContain('D /bin/sh');
    expect(lines.some((l) => l.includes('/vol/'))).toBe(false); // the volume's content is not the container's layer
    // Created, never started: no changes, and Docker's null.
    await cli('create', '--name', 'fresh', 'berth-test/busybox');
    expect((await cli('diff', 'fresh')).stdout).toBe('');
    expect((await call('GET', '/containers/fresh/changes')).body.toString()).toBe('null');
    expect(await cliError('diff', 'nope')).toContain('No such container: nope');
  });

  it('docker export: the root filesystem without volumes, running or stopped', async () => {
    await cli('export', '-o', join(work, 'changed.tar'), 'changed');
    const names = await entriesOf(readFileSync(join(work, 'changed.tar')));
    expect(names).toEqual(expect.arrayContaining(['tmp/', 'tmp/new', 'etc/newdir/', 'bin/sh -> /tmp']));
    expect(names).not.toContain('bin/busybox');
    expect(names.some((n) => n.startsWith('vol/') && n !== 'vol/')).toBe(false);
    const live = await call('GET', '/containers/live/export');
    expect(live.status).toBe(200);
    expect(await entriesOf(live.body)).toEqual(expect.arrayContaining(['data/sub/f', 'bin/busybox']));
    expect(await cliError('export', 'nope')).toContain('No such container: nope');
  });

  it('docker commit: the writable layer (whiteouts, opaque dirs) becomes an image, with --change and config', async () => {
    await cli('run', '--name', 'tocommit', 'berth-test/busybox', 'sh', '-c',
      'echo kept > /tmp/new; rm /bin/cat; rm -rf /data; mkdir /data; echo fresh > /data/only');
    const id = (await cli('commit', '-a', 'me', '-m', 'a message', '-c', 'ENV A=1 B="two words"', '-c', 'CMD ["sh","-c","echo $A $B"]',
      '-c', 'EXPOSE 8080/udp', '-c', 'WORKDIR /tmp', '-c', 'LABEL x=y', 'tocommit', 'snap:v1')).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await cli('run', '--rm', 'snap:v1')).stdout).toBe('1 two words\n');
    const seen = (await cli('run', '--rm', 'snap:v1', 'sh', '-c', 'cat /tmp/new; ls /bin/cat 2>&1; ls /data; pwd')).stdout;
    expect(seen).toBe('kept\nls: /bin/cat: No such file or directory\nonly\n/tmp\n');
    const image = await docker.getImage('snap:v1').inspect();
    expect(image.Config.Env).toEqual(expect.arrayContaining(['A=1', 'B=two words']));
    expect(image.Config.ExposedPorts).toEqual({ '8080/udp': {} });
    expect(image.Config.Labels).toEqual({ x: 'y' });
    // The request's config is merged over the container's.
    const merged = await call('POST', '/commit?container=tocommit&repo=snap&tag=v2', Buffer.from(JSON.stringify({ Env: ['A=3'], Cmd: ['sh', '-c', 'echo $A'] })));
    expect(merged.status).toBe(201);
    expect((await cli('run', '--rm', 'snap:v2')).stdout).toBe('3\n');
    expect(await cliError('commit', '-c', 'RUN echo', 'tocommit')).toContain('run is not a valid change command');
    expect(await cliError('commit', '-c', 'EXPOSE abc', 'tocommit')).toContain('Invalid containerPort: abc');
    expect(await cliError('commit', 'nope', 'x')).toContain('No such container: nope');
    expect((await call('POST', '/commit')).status).toBe(400);
  });

  it('berth cp, diff, export and commit (the berth CLI)', async () => {
    const berth = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
      run(process.execPath, [join(REPO, 'packages/cli/bin/berth.js'), '--host', `unix://${sup.socketPath}`, ...args], { encoding: 'utf8' });
    writeFileSync(join(work, 'via-berth'), 'b\n');
    await berth('cp', join(work, 'via-berth'), 'live:/data/');
    await berth('cp', 'live:/data/.', join(work, 'data-copy'));
    expect(readFileSync(join(work, 'data-copy/via-berth'), 'utf8')).toBe('b\n');
    expect(readFileSync(join(work, 'data-copy/sub/f'), 'utf8')).toBe('one\n');
    expect((await berth('diff', 'changed')).stdout).toContain('A /tmp/new\n');
    await berth('export', '-o', join(work, 'berth-export.tar'), 'changed');
    expect(await entriesOf(readFileSync(join(work, 'berth-export.tar')))).toContain('tmp/new');
    // A running container commits too (without a pause, for now).
    const id = (await berth('commit', '-c', 'CMD ["cat","/data/sub/f"]', 'live', 'snap:berth')).stdout.trim();
    expect(id).toMatch(/^sha256:/);
    expect((await cli('run', '--rm', 'snap:berth')).stdout).toBe('one\n');
    await expect(berth('cp', 'live:/no/such', work)).rejects.toMatchObject({ stderr: expect.stringContaining('Could not find the file /no/such') });
  });

  it('refuses as Docker does: unknown container 404, missing path 404, bad paths 400, read-only 409', async () => {
    expect(await cliError('cp', 'nope:/etc', work)).toContain('No such container: nope');
    expect(await cliError('cp', 'live:/no/such', work)).toContain('Could not find the file /no/such in container live');
    const empty = await call('GET', '/containers/live/archive?path=');
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body.toString()).message).toBe('bad parameter: pathcannot be empty');
    expect((await call('HEAD', '/containers/live/archive?path=/no/such')).status).toBe(404);
    expect((await call('GET', '/containers/live/archive?path=/bin/sh/')).status).toBe(400);
    const notDir = await call('PUT', '/containers/live/archive?path=/data/sub/f', Buffer.alloc(1024));
    expect(notDir.status).toBe(400);
    expect(JSON.parse(notDir.body.toString()).message).toBe('extraction point is not a directory');
    const garbage = await call('PUT', '/containers/live/archive?path=/tmp', Buffer.from('not a tar at all'.repeat(64)));
    expect(garbage.status).toBe(400);
    await cli('run', '-d', '--name', 'ro', '--read-only', '-v', 'cpvol:/vol:ro', 'berth-test/busybox', 'sleep', '300');
    writeFileSync(join(work, 'x'), 'x');
    expect(await cliError('cp', join(work, 'x'), 'ro:/tmp/')).toContain('container rootfs is marked read-only');
    expect(await cliError('cp', join(work, 'x'), 'ro:/vol/')).toContain('mounted volume is marked read-only');
    const ro = await call('PUT', '/containers/ro/archive?path=/tmp', Buffer.alloc(1024));
    expect(ro.status).toBe(409);
  });
});
