/**
 * Statuses and filters as Docker clients see them: dockerode and raw HTTP
 * against a supervisor on a unix socket (fake engine, real volume store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '@berth/volumes';
import { Supervisor } from '../../src/supervisor.js';
import { FakeEngine, FakeImages } from '../helpers/fake-engine.js';

interface Answer { status: number; message: string }

function call(socketPath: string, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let message = text;
        try { message = (JSON.parse(text) as { message?: string }).message ?? text; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, message });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request with `Upgrade: tcp`, as the docker CLI sends for attach and exec: the raw answer's status line and body. */
function upgrade(socketPath: string, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', reject);
    s.write(`${method} ${path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
  });
}

describe('Docker statuses and filter semantics through dockerode and raw HTTP', () => {
  let root: string;
  let socketPath: string;
  let sup: Supervisor;
  let docker: Docker;
  const engine = new FakeEngine();
  let volumes: VolumeStore;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-api-errors-'));
    socketPath = join(root, 'berth.sock');
    const syscalls = new LinuxSyscalls();
    volumes = VolumeStore.open(root, { syscalls });
    sup = await Supervisor.start({ root, socketPath }, { engine, images: new FakeImages(), volumes, syscalls, close: () => volumes.close() });
    docker = new Docker({ socketPath });
  });
  afterAll(async () => {
    for (const pid of engine.pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await sup?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('two label filters select only the containers with both, in either encoding (docker-compose relies on it)', async () => {
    const labels = (service: string, oneoff: string): Record<string, string> =>
      ({ 'com.docker.compose.project': 'proj', 'com.docker.compose.service': service, 'com.docker.compose.oneoff': oneoff });
    const web = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'proj_web_1', Labels: labels('web', 'False') });
    await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'proj_db_1', Labels: labels('db', 'False') });
    await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name: 'proj_web_run_1', Labels: labels('web', 'True') });

    const wanted = ['com.docker.compose.project=proj', 'com.docker.compose.service=web', 'com.docker.compose.oneoff=False'];
    const viaDockerode = await docker.listContainers({ all: true, filters: { label: wanted } });
    expect(viaDockerode.map((c) => c.Id)).toEqual([web.id]);
    const cliEncoding = encodeURIComponent(JSON.stringify({ label: Object.fromEntries(wanted.map((l) => [l, true])) }));
    const raw = await call(socketPath, 'GET', `/v1.41/containers/json?all=1&filters=${cliEncoding}`);
    expect(raw.status).toBe(200);
    // Different keys AND too: a name that matches two, with a label that only one has.
    const named = await docker.listContainers({ all: true, filters: { name: ['proj_web'], label: ['com.docker.compose.oneoff=True'] } });
    expect(named.map((c) => c.Names[0])).toEqual(['/proj_web_run_1']);
  });

  it('filters Docker has and berth cannot answer yet are refused by name; unknown ones with dockerd\'s 400', async () => {
    await expect(docker.listContainers({ filters: { health: ['healthy'] } })).rejects.toMatchObject({
      statusCode: 501, json: { message: "berth does not implement the 'health' filter of GET /containers/json yet" },
    });
    await expect(docker.listContainers({ filters: { colour: ['red'] } })).rejects.toMatchObject({ statusCode: 400, json: { message: "Invalid filter 'colour'" } });
    await expect(docker.listContainers({ all: true, filters: { status: ['sleeping'] } })).rejects.toMatchObject({ statusCode: 400, json: { message: "Invalid filter 'status=sleeping'" } });
    await expect(docker.listImages({ filters: { dangling: ['maybe'] } })).rejects.toMatchObject({ statusCode: 400, json: { message: "Invalid filter 'dangling=[maybe]'" } });
    await expect(docker.listVolumes({ filters: { reference: ['x'] } })).rejects.toMatchObject({ statusCode: 400, json: { message: "Invalid filter 'reference'" } });
  });

  it('volume and image lists AND their label filters', async () => {
    await docker.createVolume({ Name: 'both', Labels: { a: '1', b: '2' } });
    await docker.createVolume({ Name: 'one', Labels: { a: '1' } });
    const vols = await docker.listVolumes({ filters: { label: ['a=1', 'b=2'] } });
    expect((vols.Volumes ?? []).map((v) => v.Name)).toEqual(['both']);
    expect((await docker.listImages({ filters: { reference: ['busy*'] } })).map((i) => i.RepoTags)).toEqual([['busybox:latest']]);
    expect(await docker.listImages({ filters: { reference: ['other'] } })).toEqual([]);
  });

  it('an unknown path is dockerd\'s 404, a Docker endpoint berth lacks a 501 naming it', async () => {
    expect(await call(socketPath, 'GET', '/v1.41/bogus/path')).toEqual({ status: 404, message: 'page not found' });
    expect(await call(socketPath, 'PUT', '/v1.41/info')).toEqual({ status: 404, message: 'page not found' });
    expect(await call(socketPath, 'POST', '/v1.41/swarm/init', '{}')).toEqual({ status: 501, message: 'berth does not implement POST /swarm/init' });
    expect(await call(socketPath, 'GET', '/v1.41/containers/abc/attach/ws', '')).toEqual({ status: 501, message: 'berth does not implement GET /containers/{id}/attach/ws' });
    // A known path with a method it lacks is the same 404 for dockerd; DELETE /containers/json is DELETE /containers/{id}.
    expect(await call(socketPath, 'POST', '/containers/json')).toEqual({ status: 404, message: 'page not found' });
    expect(await call(socketPath, 'DELETE', '/containers/json')).toEqual({ status: 404, message: 'No such container: json' });
  });

  it('a malformed escape in the path is a 400, and the daemon lives on', async () => {
    expect(await call(socketPath, 'GET', '/v1.41/containers/%ZZ/json')).toEqual({ status: 400, message: 'invalid escape in request path: "%ZZ"' });
    expect(await upgrade(socketPath, 'POST', '/v1.41/containers/%E0%A4%A/attach')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect((await call(socketPath, 'GET', '/_ping')).status).toBe(200);
  });

  it('refuses API versions outside the range it speaks with dockerd\'s texts', async () => {
    expect(await call(socketPath, 'GET', '/v1.99/version')).toEqual({ status: 400, message: 'client version 1.99 is too new. Maximum supported API version is 1.47' });
    expect(await call(socketPath, 'GET', '/v1.0/version')).toEqual({
      status: 400, message: 'client version 1.0 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    });
    expect((await call(socketPath, 'GET', '/v1.24/version')).status).toBe(200);
    expect((await call(socketPath, 'GET', '/v1.47/version')).status).toBe(200);
    expect(await upgrade(socketPath, 'POST', '/v1.99/containers/x/attach')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*too new/);
  });

  it('upgrade requests answer through the same table', async () => {
    const bogus = await upgrade(socketPath, 'POST', '/v1.41/bogus');
    expect(bogus).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(bogus).toContain('{"message":"page not found"}');
    expect(await upgrade(socketPath, 'POST', '/v1.41/session')).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n[\s\S]*berth does not implement POST \/session/);
    expect(await upgrade(socketPath, 'POST', '/v1.41/containers/nosuch/attach?stream=1&stdout=1')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[\s\S]*No such container: nosuch/);
  });
});
