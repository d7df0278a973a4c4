/**
 * Hostile requests through a real supervisor socket: malformed JSON, wrong
 * types, huge bodies, unknown endpoints, path traversal in names, subpaths
 * that escape (including a symlink a container planted in its volume). Each
 * gets a 4xx with a message and the supervisor stays up. And only root (and
 * the socket's group) can connect.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEEP } from './harness/hostile.js';
import { BUSYBOX_TAG, busyboxArchive } from './harness/images.js';
import { Daemon, describeRoot, fingerprint, hostMountTable, mountTableChanges } from '@berth/testing';

interface Answer { status: number; body: string; message: string }

describeRoot('hostile requests through the supervisor socket', () => {
  let base: string;
  let sentinel: string;
  let daemon: Daemon;
  let mountsBefore: string;
  let watched: string[];

  function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: daemon.opts.socketPath, method, path, agent: false, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let message = '';
          try { message = String((JSON.parse(text) as { message?: unknown }).message ?? ''); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: text, message });
        });
      });
      // A server may answer 413 and close before reading a huge body: the answer still counts.
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A 4xx with a readable message, and the supervisor still answers /_ping. */
  async function refused(answer: Answer | Promise<Answer>, pattern?: RegExp): Promise<Answer> {
    const a = await answer;
    expect(a.status, a.body).toBeGreaterThanOrEqual(400);
    expect(a.status, a.body).toBeLessThan(500);
    expect(a.message.length, `no message in ${a.body}`).toBeGreaterThan(10);
    if (pattern) expect(a.message).toMatch(pattern);
    expect((await call('GET', '/_ping')).body).toBe('OK');
    return a;
  }

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    base = mkdtempSync(join(tmpdir(), 'berth-requests-'));
    // Traversable by anyone, so the socket's own mode is what keeps `nobody` out.
    chmodSync(base, 0o755);
    sentinel = join(base, 'sentinel');
    mkdirSync(sentinel);
    writeFileSync(join(sentinel, 'victim'), 'original\n');
    watched = [sentinel, join(sentinel, 'victim'), base];
    daemon = new Daemon({ root: join(base, 'root'), socketPath: join(base, 'berth.sock'), logPath: join(base, 'daemon.log'), workers: 1 });
    await daemon.start();
    const archive = await busyboxArchive(join(base, 'busybox.tar'));
    for await (const _ of (await daemon.docker.loadImage(createReadStream(archive))) as AsyncIterable<Buffer>) { /* drain */ }
  });

  afterAll(async () => {
    if (daemon) {
      for (const c of await daemon.docker.listContainers({ all: true }).catch(() => [])) {
        await daemon.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
      await daemon.stop();
    }
    rmSync(base, { recursive: true, force: true });
    expect(mountTableChanges(mountsBefore)).toEqual([]);
  });

  it('malformed JSON bodies get 400', async () => {
    await refused(call('POST', '/volumes/create', '{"Name": "x",'), /invalid JSON/);
    await refused(call('POST', '/containers/create', '{not json'), /invalid JSON/);
    await refused(call('POST', '/containers/create', '\u0000\u0001garbage'), /JSON/);
    await refused(call('POST', '/containers/create', '[1,2,3]'));
    await refused(call('POST', '/containers/create', '"just a string"'));
  });

  it('wrong types get 400', async () => {
    await refused(call('POST', '/volumes/create', JSON.stringify({ Name: 5 })), /Name/);
    await refused(call('POST', '/volumes/create', JSON.stringify({ Labels: 'x' })), /Labels/);
    await refused(call('POST', '/volumes/create', JSON.stringify({ DriverOpts: { a: 1 } })), /DriverOpts/);
    await refused(call('POST', '/containers/create', JSON.stringify({ Image: 5 })));
    await refused(call('POST', '/containers/create', JSON.stringify({ Image: BUSYBOX_TAG, Cmd: 7 })));
    await refused(call('POST', '/containers/create', JSON.stringify({ Image: BUSYBOX_TAG, HostConfig: { Binds: 'v:/d' } })));
    await refused(call('POST', '/containers/create', JSON.stringify({ Image: BUSYBOX_TAG, HostConfig: { Mounts: [{ Type: 'volume', Target: 5 }] } })));
    await refused(call('GET', '/containers/json?limit=abc'));
    await refused(call('GET', '/volumes?filters=%7Bnot-json'), /filter/);
  });

  it('a body over the size limit gets 413 (and the daemon does not buffer it all)', async () => {
    const huge = Buffer.alloc(8 * 1024 * 1024, 0x20);
    huge.write('{"Name":"x"', 0);
    const a = await call('POST', '/volumes/create', huge).catch((err: NodeJS.ErrnoException) => ({ status: 413, body: err.code ?? '', message: 'connection closed after the limit' }));
    await refused(a);
    expect(a.status).toBe(413);
    expect((await daemon.docker.listVolumes()).Volumes ?? []).toEqual([]);
  });

  it('unknown endpoints and methods get Docker\'s 404, Docker endpoints berth lacks 501', async () => {
    expect(await refused(call('GET', '/no/such/endpoint'))).toMatchObject({ status: 404, message: 'page not found' });
    expect(await call('POST', '/v1.47/swarm/init', '{}')).toMatchObject({ status: 501, message: 'berth does not implement POST /swarm/init' });
    // dockerd has no PATCH anywhere: a wrong method on a known path is its plain 404.
    expect(await refused(call('PATCH', '/volumes/create', '{}'))).toMatchObject({ status: 404, message: 'page not found' });
  });

  it('path traversal in names never reaches outside', async () => {
    const before = fingerprint(watched);
    for (const name of ['../../etc', '..', '.', 'a/b', `${DEEP}${sentinel.slice(1)}`, '/etc', 'x\u0000y']) {
      await refused(call('POST', '/volumes/create', JSON.stringify({ Name: name })));
      // Docker strips one leading '/' from container names: "/etc" is the valid name "etc".
      if (name === '/etc') continue;
      const created = await call('POST', `/containers/create?name=${encodeURIComponent(name)}`, JSON.stringify({ Image: BUSYBOX_TAG }));
      expect(created.status, `container name ${JSON.stringify(name)}: ${created.body}`).toBe(400);
      await refused(created);
    }
    for (const raw of ['..%2F..%2Fetc', '%2e%2e%2f%2e%2e%2fetc', '%2e%2e', `${encodeURIComponent(DEEP)}${encodeURIComponent(sentinel.slice(1))}`]) {
      await refused(call('GET', `/volumes/${raw}`));
      await refused(call('DELETE', `/volumes/${raw}?force=0`).then((a) => (a.status === 204 ? { ...a, status: 599 } : a)));
      await refused(call('GET', `/containers/${raw}/json`));
      await refused(call('DELETE', `/containers/${raw}?force=1`));
      await refused(call('GET', `/images/${raw}/json`));
      await refused(call('DELETE', `/images/${raw}`));
    }
    expect(fingerprint(watched)).toEqual(before);
  });

  it('a volume subpath of ../.. is refused', async () => {
    await call('POST', '/volumes/create', JSON.stringify({ Name: 'sub' }));
    for (const subpath of ['../..', '..', `${DEEP}${sentinel.slice(1)}`, '/etc', 'a/../../b']) {
      const body = { Image: BUSYBOX_TAG, Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'volume', Source: 'sub', Target: '/d', VolumeOptions: { Subpath: subpath } }] } };
      await refused(call('POST', '/containers/create', JSON.stringify(body)), /subpath|Subpath/);
    }
  });

  it('a symlink planted inside a volume by a container, then used as a subpath, never touches outside', async () => {
    const docker = daemon.docker;
    const before = fingerprint(watched);
    const planter = await docker.createContainer({
      Image: BUSYBOX_TAG,
      Cmd: ['sh', '-c', `ln -s ${sentinel} /d/abs && ln -s ${DEEP}${sentinel.slice(1)} /d/deep && ln -s /proc/self/root${sentinel} /d/proc && mkdir /d/real && ln -s ../${DEEP}${sentinel.slice(1)} /d/real/up`],
      HostConfig: { Binds: ['planted:/d'] },
    });
    await planter.start();
    expect(((await planter.wait()) as { StatusCode: number }).StatusCode).toBe(0);
    await planter.remove();
    for (const subpath of ['abs', 'deep', 'proc', 'real/up']) {
      const body = {
        Image: BUSYBOX_TAG, Cmd: ['sh', '-c', 'echo pwned > /d/pwned; echo pwned > /d/victim'],
        HostConfig: { Mounts: [{ Type: 'volume', Source: 'planted', Target: '/d', VolumeOptions: { Subpath: subpath } }] },
      };
      const created = await call('POST', '/containers/create', JSON.stringify(body));
      if (created.status === 201) {
        const id = (JSON.parse(created.body) as { Id: string }).Id;
        const started = await call('POST', `/containers/${id}/start`);
        if (started.status < 300) await call('POST', `/containers/${id}/wait`);
        else await refused(started, /subpath|symlink|outside|escape/i);
        await call('DELETE', `/containers/${id}?force=1`);
      } else {
        await refused(created);
      }
      expect(fingerprint(watched), `subpath ${subpath} reached the sentinel`).toEqual(before);
    }
  }, 60_000);

  it('the socket is mode 0660, owned by root', () => {
    const st = statSync(daemon.opts.socketPath);
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    expect(st.uid).toBe(0);
  });

  it('a non-root user cannot connect (EACCES); a member of the socket group can', () => {
    const probe = (groups: string): string => {
      const script = `const s=require('net').connect(${JSON.stringify(daemon.opts.socketPath)});` +
        `s.on('connect',()=>{console.log('CONNECTED');s.destroy()});s.on('error',(e)=>console.log(e.code))`;
      return execFileSync('setpriv', ['--reuid=65534', '--regid=65534', groups, process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' }).trim();
    };
    expect(probe('--clear-groups')).toBe('EACCES');
    expect(probe(`--groups=${statSync(daemon.opts.socketPath).gid}`)).toBe('CONNECTED');
  });
});
