/**
 * Hostile `docker cp` (the archive endpoints) against a real supervisor: a
 * container that plants symlinks to the host's files (absolute, relative
 * with `..`, through /proc/self/root), paths with `..`, archives whose
 * entries climb out or go through links, and a container that keeps
 * swapping a directory for a symlink to the host while files are copied in
 * and out (CVE-2018-15664). For each: nothing outside the container is read
 * (the sentinel's secret never appears in an answer) or written (the
 * sentinel's fingerprint does not change). CVE-2019-14271 (docker cp
 * loading the container's libnss into a helper) has no counterpart: berth
 * runs nothing from the container to copy, it only opens files by fd.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEEP } from './harness/hostile.js';
import { BUSYBOX_TAG, busyboxArchive } from './harness/images.js';
import { Daemon, describeRoot, fingerprint, hostMountTable, mountTableChanges } from '@berth/testing';

interface Answer { status: number; body: Buffer; message: string }

interface Entry { name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string; body?: string }

function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => p.on('end', () => resolve(Buffer.concat(chunks))));
  for (const e of entries) {
    p.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '');
  }
  p.finalize();
  return done;
}

describeRoot('hostile archive requests (docker cp) through the supervisor socket', () => {
  let base: string;
  let sentinel: string;
  let secret: string;
  let daemon: Daemon;
  let mountsBefore: string;
  let watched: string[];

  function call(method: string, path: string, body?: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: daemon.opts.socketPath, method, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks);
          let message = '';
          try { message = String((JSON.parse(text.toString()) as { message?: unknown }).message ?? ''); } catch { /* a tar */ }
          resolve({ status: res.statusCode ?? 0, body: text, message });
        });
        res.on('error', (err) => reject(new Error(`${method} ${path}: ${err.message}`)));
      });
      req.on('error', (err) => reject(new Error(`${method} ${path}: ${err.message}`)));
      req.end(body);
    });
  }

  const get = (id: string, path: string): Promise<Answer> => call('GET', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
  const put = (id: string, path: string, body: Buffer): Promise<Answer> => call('PUT', `/containers/${id}/archive?path=${encodeURIComponent(path)}`, body);

  /** Nothing of the host's sentinel in the answer, whatever its status. */
  function leaksNothing(a: Answer): void {
    expect(a.body.includes(secret), `the host's secret leaked: ${a.status}`).toBe(false);
    expect(a.status, a.message).toBeLessThan(500);
  }

  async function runContainer(script: string): Promise<string> {
    const c = await daemon.docker.createContainer({ Image: BUSYBOX_TAG, Cmd: ['sh', '-c', script] });
    await c.start();
    return c.id;
  }

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    base = mkdtempSync(join(tmpdir(), 'berth-archive-'));
    chmodSync(base, 0o755);
    sentinel = join(base, 'sentinel');
    mkdirSync(sentinel);
    secret = `secret-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(sentinel, 'victim'), `${secret}\n`);
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

  it('planted symlinks and `..` never read or write the host, running or stopped', async () => {
    const before = fingerprint(watched);
    const plant = [
      `ln -s / /rootlink`, `ln -s ${sentinel} /abslink`, `ln -s ${sentinel}/victim /filelink`,
      `ln -s ${DEEP}${sentinel.slice(1)} /rellink`, `ln -s /proc/self/root${sentinel} /proclink`, `mkdir -p /d && ln -s ${sentinel} /d/inner`,
    ].join(' && ');
    const id = await runContainer(`${plant} && touch /ready && sleep 300`);
    for (let i = 0; i < 100 && (await get(id, '/ready')).status !== 200; i++) await sleep(50);
    const probe = async (): Promise<void> => {
      for (const path of [
        `/rootlink${sentinel}/victim`, '/abslink/victim', '/filelink', '/filelink/', '/rellink/victim', '/proclink/victim',
        `${DEEP}${sentinel.slice(1)}/victim`, `/proc/self/root${sentinel}/victim`, `/proc/1/root${sentinel}/victim`,
        '/abslink/', '/abslink/.', '/d', '/', `/rootlink${sentinel}`,
      ]) {
        const a = await get(id, path);
        leaksNothing(a);
        // A link itself may be copied (as a link); following one that leads out ends inside the container: missing.
        if (path.endsWith('victim')) expect(a.status, path).not.toBe(200);
        const head = await call('HEAD', `/containers/${id}/archive?path=${encodeURIComponent(path)}`);
        expect(head.status).toBeLessThan(500);
      }
      const files = await tarOf([{ name: 'pwned', body: 'pwned' }]);
      for (const path of ['/abslink', '/rellink', `/rootlink${sentinel}`, '/d/inner']) {
        // Either refused or written inside the container (its own /<sentinel> directory), never on the host.
        const a = await put(id, path, files);
        expect(a.status, a.message).toBeLessThan(500);
      }
      for (const entries of [
        [{ name: `${DEEP}${sentinel.slice(1)}/pwned`, body: 'x' }],
        [{ name: 'l', type: 'symlink' as const, linkname: sentinel }, { name: 'l/pwned', body: 'x' }],
        [{ name: 'r', type: 'symlink' as const, linkname: `${DEEP}${sentinel.slice(1)}` }],
        [{ name: 'h', type: 'link' as const, linkname: `${DEEP}${sentinel.slice(1)}/victim` }],
        [{ name: 'h2', type: 'link' as const, linkname: `/abslink/victim` }],
        [{ name: 'pl', type: 'symlink' as const, linkname: `/proc/self/root${sentinel}` }, { name: 'pl/pwned', body: 'x' }],
      ]) {
        const a = await put(id, '/tmp', await tarOf(entries));
        expect(a.status, a.message).toBeLessThan(500);
      }
      expect(fingerprint(watched)).toEqual(before);
    };
    await probe();
    // A relative symlink that climbs out is refused as moby refuses it.
    const rel = await put(id, '/tmp', await tarOf([{ name: 'r2', type: 'symlink', linkname: '../../../../etc' }]));
    expect(rel.status).toBe(400);
    expect(rel.message).toMatch(/invalid symlink/);
    const climb = await put(id, '/tmp', await tarOf([{ name: '../../x', body: 'x' }]));
    expect(climb.status).toBe(400);
    await daemon.docker.getContainer(id).kill();
    await daemon.docker.getContainer(id).wait();
    // Stopped: the same requests through a throwaway view of its files.
    await probe();
  });

  it('clients that leave in the middle of an archive or an export do not take the daemon down', async () => {
    const id = await runContainer('sleep 300');
    for (const path of [`/containers/${id}/archive?path=%2F`, `/containers/${id}/export`]) {
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => {
          const req = request({ socketPath: daemon.opts.socketPath, method: 'GET', path, agent: false }, (res) => {
            res.once('data', () => { req.destroy(); resolve(); });
          });
          req.on('error', () => resolve());
          req.end();
        });
      }
    }
    expect(daemon.running).toBe(true);
    expect((await call('GET', '/_ping')).body.toString()).toBe('OK');
  });

  it('a directory swapped for a symlink to the host during copies never leads out (CVE-2018-15664)', async () => {
    const before = fingerprint(watched);
    // The swap as fast as a shell can do it: a real directory with a decoy file, then a link to the host's sentinel.
    const id = await runContainer(
      `mkdir -p /w; while :; do mkdir /w/x && echo decoy > /w/x/victim; rm -rf /w/x; ` +
      `ln -s ${sentinel} /w/x; rm -f /w/x; done`,
    );
    const files = await tarOf([{ name: 'victim', body: 'overwritten' }, { name: 'dropped', body: 'x' }]);
    let decoys = 0;
    for (let i = 0; i < 150; i++) {
      const [a, b, c] = await Promise.all([get(id, '/w/x/victim'), get(id, '/w/x'), put(id, '/w/x', files)]);
      leaksNothing(a);
      leaksNothing(b);
      expect(c.status, c.message).toBeLessThan(500);
      if (a.status === 200) decoys++;
    }
    expect(fingerprint(watched)).toEqual(before);
    // The race was live: some reads did land on the container's own decoy.
    expect(decoys).toBeGreaterThan(0);
  });
});
