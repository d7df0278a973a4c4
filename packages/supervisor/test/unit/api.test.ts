import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '@berth/volumes';
import { Supervisor } from '../../src/supervisor.js';
import { deframe } from '../../src/framing.js';
import { FakeEngine, FakeImages } from '../helpers/fake-engine.js';
import { waitContainer } from '@berth/testing';

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function raw(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.on('upgrade', (res, socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.end(body);
  });
}

describe('Docker API over a unix socket (dockerode, fake engine, real volume store)', () => {
  let root: string;
  let socketPath: string;
  let sup: Supervisor;
  let docker: Docker;
  const engine = new FakeEngine();
  const images = new FakeImages();
  let volumes: VolumeStore;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-api-'));
    socketPath = join(root, 'berth.sock');
    const syscalls = new LinuxSyscalls();
    volumes = VolumeStore.open(root, { syscalls });
    sup = await Supervisor.start({ root, socketPath }, {
      engine, images, volumes, syscalls, close: () => volumes.close(),
    });
    docker = new Docker({ socketPath });
  });
  afterAll(async () => {
    for (const pid of engine.pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await sup?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers ping with the headers the docker CLI negotiates from, versioned or not', async () => {
    const head = await raw(socketPath, 'HEAD', '/_ping');
    expect(head.status).toBe(200);
    expect(head.headers['api-version']).toBe('1.47');
    expect(head.headers['ostype']).toBe('linux');
    const get = await raw(socketPath, 'GET', '/v1.41/_ping');
    expect(get.body.toString()).toBe('OK');
    // Above the version it speaks, dockerd refuses even a ping: clients negotiate from the unversioned one.
    expect((await raw(socketPath, 'GET', '/v1.50/_ping')).status).toBe(400);
    expect((await docker.version()).ApiVersion).toBe('1.47');
  });

  it('errors are {"message"} with Content-Type exactly application/json', async () => {
    const r = await raw(socketPath, 'GET', '/v1.47/containers/nope/json');
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toEqual({ message: 'No such container: nope' });
    const bad = await raw(socketPath, 'POST', '/containers/create', '{"Image":', { 'Content-Type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).message).toMatch(/invalid JSON/);
    const wrong = await raw(socketPath, 'POST', '/containers/create', '{"Image":"busybox","Cmd":[1]}');
    expect(wrong.status).toBe(400);
    const big = await raw(socketPath, 'POST', '/volumes/create', JSON.stringify({ Name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    const pull = await raw(socketPath, 'POST', '/images/create?fromImage=alpine');
    expect(pull.status).toBe(501);
    expect(JSON.parse(pull.body.toString()).message).toMatch(/does not implement pulling every tag of alpine/);
  });

  it('volumes: create, list with both filter encodings, inspect, remove with force semantics, prune', async () => {
    // dockerode 5 wraps the answer in a Volume handle: check the raw answer too.
    await docker.createVolume({ Name: 'v1', Labels: { a: 'b' } });
    const v2 = await raw(socketPath, 'POST', '/volumes/create', JSON.stringify({ Driver: 'local', Name: 'v2', Labels: {}, DriverOpts: {} }));
    expect(v2.status).toBe(201);
    expect(JSON.parse(v2.body.toString())).toMatchObject({ Name: 'v2', Driver: 'local', Scope: 'local' });
    await docker.getVolume('v2').remove();
    const byCli = await raw(socketPath, 'GET', `/volumes?filters=${encodeURIComponent('{"label":{"a=b":true}}')}`);
    expect(JSON.parse(byCli.body.toString()).Volumes.map((x: { Name: string }) => x.Name)).toEqual(['v1']);
    const listed = await docker.listVolumes({ filters: { name: ['v1'] } });
    expect(listed.Volumes.map((x) => x.Name)).toEqual(['v1']);
    expect(listed.Warnings).toBeNull();
    expect((await docker.getVolume('v1').inspect()).Name).toBe('v1');
    await expect(docker.getVolume('missing').inspect()).rejects.toMatchObject({ statusCode: 404 });
    const bad = await raw(socketPath, 'POST', '/volumes/create', '{"Name":"a"}');
    expect(bad.status).toBe(400);
    expect((await raw(socketPath, 'DELETE', '/volumes/missing?force=1')).status).toBe(204);
    await docker.getVolume('v1').remove();
    await docker.createVolume({});
    const pruned = await docker.pruneVolumes();
    expect(pruned.VolumesDeleted).toHaveLength(1);
  });

  it('containers: create, attach (plain 200) before start, wait, logs, inspect, list, remove', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 4'], name: 'job1' });
    const stream = (await c.attach({ stream: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    stream.on('data', (b: Buffer) => chunks.push(b));
    const ended = new Promise((r) => stream.on('end', r));
    const waited = await waitContainer(socketPath, c.id, 'next-exit');
    await c.start();
    expect((await waited.exited).StatusCode).toBe(4);
    await ended;
    const frames = deframe(Buffer.concat(chunks)).frames.map((f) => [f.type, f.payload.toString()]);
    expect(frames).toEqual(expect.arrayContaining([[1, 'hello\n'], [2, 'oops\n']]));
    const info = await c.inspect();
    expect(info).toMatchObject({ Name: '/job1', Path: 'sh', State: { Status: 'exited', ExitCode: 4, Running: false }, GraphDriver: { Name: 'overlay2' } });
    expect(info.Config).not.toBeNull();
    const logs = (await c.logs({ stdout: true, stderr: false, follow: false, tail: 1 })) as unknown as Buffer;
    expect(deframe(logs).frames.map((f) => f.payload.toString())).toEqual(['hello\n']);
    const all = await docker.listContainers({ all: true });
    expect(all.find((x) => x.Id === c.id)).toMatchObject({ Names: ['/job1'], State: 'exited' });
    expect((await docker.listContainers()).find((x) => x.Id === c.id)).toBeUndefined();
    await expect(c.stop()).rejects.toMatchObject({ statusCode: 304 });
    await expect(c.kill()).rejects.toMatchObject({ statusCode: 409 });
    await c.remove({ v: true });
    await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('attach with Upgrade: tcp answers 101 UPGRADED and closes when the output ends; wait removed for --rm', async () => {
    const created = await raw(socketPath, 'POST', '/v1.47/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['echo', 'hi'], HostConfig: { AutoRemove: true } }));
    const { Id } = JSON.parse(created.body.toString()) as { Id: string };
    const attached = raw(socketPath, 'POST', `/v1.47/containers/${Id}/attach?stderr=1&stdout=1&stream=1`, undefined, { Connection: 'Upgrade', Upgrade: 'tcp' });
    const waited = raw(socketPath, 'POST', `/v1.47/containers/${Id}/wait?condition=removed`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await raw(socketPath, 'POST', `/v1.47/containers/${Id}/start`)).status).toBe(204);
    const a = await attached;
    expect(a.status).toBe(101);
    expect(a.headers['content-type']).toBe('application/vnd.docker.multiplexed-stream');
    expect(deframe(a.body).frames.map((f) => f.payload.toString())).toEqual(['hi\n']);
    expect(JSON.parse((await waited).body.toString())).toEqual({ StatusCode: 0, Error: null });
    expect((await raw(socketPath, 'GET', `/containers/${Id}/json`)).status).toBe(404);
  });

  it('rename and container prune, with Docker\'s messages and label filters', async () => {
    const a = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'prune-a', Labels: { keep: '1' } });
    const b = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'prune-b' });
    const running = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '100'], name: 'prune-running' });
    await running.start();
    await b.rename({ name: 'prune-b2' });
    expect((await b.inspect()).Name).toBe('/prune-b2');
    await expect(b.rename({ name: 'prune-a' })).rejects.toMatchObject({ statusCode: 409, json: { message: expect.stringContaining('Conflict. The container name "/prune-a" is already in use') } });
    await expect(b.rename({ name: 'prune-b2' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(b.rename({ name: 'bad name!' })).rejects.toMatchObject({ statusCode: 400 });
    const pruned = await docker.pruneContainers({ filters: { 'label!': ['keep'] } });
    expect(pruned.ContainersDeleted).toContain(b.id);
    expect(pruned.ContainersDeleted).not.toContain(a.id);
    expect(pruned.ContainersDeleted).not.toContain(running.id); // running: never pruned
    await expect(b.inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.pruneContainers()).ContainersDeleted).toContain(a.id);
    await expect(docker.pruneContainers({ filters: { bogus: ['x'] } })).rejects.toMatchObject({ statusCode: 400 });
    await running.remove({ force: true });
  });

  it('events: the lifecycle of a container and a volume, replayed with since/until and streamed live, filtered', async () => {
    const since = Date.now() / 1000;
    const live: { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> } }[] = [];
    const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die'] } })) as unknown as NodeJS.ReadableStream;
    let buffered = '';
    stream.on('data', (b: Buffer) => {
      buffered += b.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) if (l) live.push(JSON.parse(l) as (typeof live)[number]);
    });
    await docker.createVolume({ Name: 'ev-vol' });
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'exit 3'], name: 'ev-box', Labels: { team: 'a' } });
    const waited = await waitContainer(socketPath, c.id, 'next-exit');
    await c.start();
    await waited.exited;
    await c.remove();
    await docker.getVolume('ev-vol').remove();
    const until = Date.now() / 1000 + 0.001;
    const replay = async (filters: Record<string, string[]>): Promise<string[]> => {
      const res = await raw(socketPath, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify(filters))}`);
      return res.body.toString().trim().split('\n').filter((l) => l).map((l) => {
        const e = JSON.parse(l) as { Type: string; Action: string; Actor: { Attributes: Record<string, string> } };
        return `${e.Type} ${e.Action} ${e.Actor.Attributes['name'] ?? ''}${e.Actor.Attributes['exitCode'] ? ` ${e.Actor.Attributes['exitCode']}` : ''}`;
      });
    };
    expect(await replay({ container: ['ev-box'] })).toEqual(['container create ev-box', 'container start ev-box', 'container die ev-box 3', 'container destroy ev-box']);
    expect(await replay({ type: ['volume'] })).toEqual(['volume create ', 'volume destroy ']);
    expect(await replay({ label: ['team=a'], event: ['die'] })).toEqual(['container die ev-box 3']);
    for (let i = 0; i < 100 && live.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(live.map((e) => `${e.Action} ${e.Actor.Attributes['name']}`)).toEqual(['start ev-box', 'die ev-box']);
    (stream as unknown as { destroy(): void }).destroy();
    expect((await raw(socketPath, 'GET', '/events?filters={"bogus":["x"]}')).status).toBe(400);
  });

  it('rm without force on a running container is 409; rm -f returns once it is gone', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await c.start();
    await expect(c.remove()).rejects.toMatchObject({ statusCode: 409 });
    await c.remove({ force: true });
    expect(engine.pids.size).toBe(0);
  });

  it('images/load?tag=REF (berth image import FILE REF) tags the loaded image REF', async () => {
    const plain = await raw(socketPath, 'POST', '/v1.47/images/load?quiet=1', 'not really a tar', { 'Content-Type': 'application/x-tar' });
    expect(plain.status).toBe(200);
    // docker load reads only image archives; berth's own import (format=auto) also takes a root filesystem tar.
    expect(images.imports.at(-1)).toEqual({ format: 'archive' });
    const tagged = await raw(socketPath, 'POST', `/v1.47/images/load?quiet=1&format=auto&tag=${encodeURIComponent('mine/app:1.0')}`, 'x', { 'Content-Type': 'application/x-tar' });
    expect(images.imports.at(-1)).toEqual({ format: 'auto', tag: 'mine/app:1.0' });
    expect(tagged.body.toString()).toContain('Loaded image: mine/app:1.0');
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? [])).toContain('mine/app:1.0');
  });

  it('system df: volume sizes and reference counts from the volume store, container sizes', async () => {
    await docker.createVolume({ Name: 'dfvol' });
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
    writeFileSync(join((await docker.getVolume('dfvol').inspect()).Mountpoint, 'f'), 'x'.repeat(5000));
    volumes.acquire('dfvol', c.id); // what the Runtime does at start
    const df = JSON.parse((await raw(socketPath, 'GET', '/v1.47/system/df')).body.toString()) as {
      Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[];
      Containers: { Id: string; SizeRw: number }[]; LayersSize: number;
    };
    expect(df.Volumes.find((v) => v.Name === 'dfvol')?.UsageData).toEqual({ Size: 5000, RefCount: 1 });
    expect(df.Containers.find((x) => x.Id === c.id)?.SizeRw).toBe(-1); // never started: no writable layer yet
    expect(df.LayersSize).toBe(1234);
    volumes.release('dfvol', c.id);
    await c.remove();
    await docker.getVolume('dfvol').remove();
  });

  it('berth volume export, import and clone: a tar round trip through the API, refusals as 4xx', async () => {
    await docker.createVolume({ Name: 'src-vol' });
    const dir = (await docker.getVolume('src-vol').inspect()).Mountpoint;
    writeFileSync(join(dir, 'hello.txt'), 'hello from a volume\n');
    const exported = await raw(socketPath, 'GET', '/berth/volumes/src-vol/export');
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toBe('application/x-tar');
    const imported = await raw(socketPath, 'POST', '/berth/volumes/dst-vol/import', exported.body.toString('latin1'), { 'Content-Type': 'application/x-tar' });
    expect(imported.status).toBe(200);
    const dst = (await docker.getVolume('dst-vol').inspect()).Mountpoint;
    expect(readFileSync(join(dst, 'hello.txt'), 'utf8')).toBe('hello from a volume\n');
    const cloned = await raw(socketPath, 'POST', '/berth/volumes/src-vol/clone?to=copy-vol');
    expect(cloned.status).toBe(201);
    expect(JSON.parse(cloned.body.toString())).toMatchObject({ Name: 'copy-vol', Driver: 'local' });
    expect(readFileSync(join((await docker.getVolume('copy-vol').inspect()).Mountpoint, 'hello.txt'), 'utf8')).toBe('hello from a volume\n');
    // Refusals: a missing volume, a non-empty target, garbage instead of a tar.
    expect((await raw(socketPath, 'GET', '/berth/volumes/nope/export')).status).toBe(404);
    expect((await raw(socketPath, 'POST', '/berth/volumes/dst-vol/import', exported.body.toString('latin1'))).status).toBeGreaterThanOrEqual(400);
    const garbage = await raw(socketPath, 'POST', '/berth/volumes/garbage-vol/import', 'this is not a tar archive at all'.repeat(40));
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body.toString()).message).toMatch(/.+/);
    expect((await raw(socketPath, 'POST', '/berth/volumes/src-vol/clone')).status).toBe(400);
    for (const v of ['src-vol', 'dst-vol', 'copy-vol']) await docker.getVolume(v).remove();
  });
});
