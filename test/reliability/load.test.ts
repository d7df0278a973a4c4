/**
 * Load and concurrency (issue 8, section 4), against the real kernel:
 * - 50 containers appending to one file of a shared named volume at once;
 * - ~100 concurrent creates and removes of one volume name through the API;
 * - 500 launches back to back, watching the test process's fds and memory
 *   and everything a launch makes (mounts, cgroups, directories, processes).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { Supervisor } from '@berth/supervisor';
import { Cgroups, processStartTime } from '@berth/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxArchive } from './harness/images.js';
import { existing, namespaceMountTable, openFds, rssMiB } from './harness/load-probes.js';
import { type TestEnv, describeRoot, hostMountTable, openTestEnv } from '@berth/testing';

const WRITERS = 50;
const LINES = 20;
const CONTESTED_REQUESTS = 100;
const LAUNCHES = 500;
const WARM_UP = 50;
/** Bounds for the 500 launches, measured after the warm-up. */
const MAX_FD_GROWTH = 10;
const MAX_RSS_GROWTH_MIB = 64;

describeRoot('load and concurrency', () => {
  let env: TestEnv;
  let hostMounts: string;

  beforeAll(async () => {
    hostMounts = hostMountTable();
    env = await openTestEnv({ workers: 4 });
  });

  afterAll(async () => {
    await env?.close();
    expect(hostMountTable()).toBe(hostMounts);
  });

  it(`${WRITERS} containers appending ${LINES} lines each to one file of a shared volume: every line is there exactly once`, async () => {
    // Each writer waits for /data/go, so all 50 append at the same time rather than one after another.
    const script = (i: number): string =>
      `touch /data/ready-${i}; t=0; while [ ! -e /data/go ] && [ $t -lt 1500 ]; do usleep 20000; t=$((t+1)); done; ` +
      `for n in $(seq 1 ${LINES}); do echo c${i}-$n >> /data/shared.log; done`;
    const started = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => env.start(['sh', '-c', script(i)], { Binds: ['shared:/data'] })),
    );
    const data = env.volumes.inspect('shared').Mountpoint;
    try {
      for (let waited = 0; readdirSync(data).filter((n) => n.startsWith('ready-')).length < WRITERS; waited += 20) {
        if (waited > 20_000) throw new Error(`only ${readdirSync(data).length} writers got ready: ${started.map((s) => s.output()).join('')}`);
        await sleep(20);
      }
    } catch (error) {
      // Leave no waiting container behind (each also gives up by itself after 30 s).
      for (const s of started) if (processStartTime(s.started.pid) === s.started.startTime) process.kill(s.started.pid, 'SIGKILL');
      throw error;
    }
    writeFileSync(join(data, 'go'), '');
    const statuses = await Promise.all(started.map((s) => s.started.exited));
    await Promise.all(started.map((s) => env.runtime.cleanup(s.id, { removeAnonymousVolumes: true })));
    expect(statuses.filter((s) => s.exitCode !== 0), started.map((s) => s.output()).join('')).toEqual([]);

    const lines = readFileSync(join(data, 'shared.log'), 'utf8').split('\n').filter((l) => l !== '');
    const expected = Array.from({ length: WRITERS }, (_, i) => Array.from({ length: LINES }, (_, n) => `c${i}-${n + 1}`)).flat();
    expect(lines.length).toBe(WRITERS * LINES);
    expect([...lines].sort()).toEqual([...expected].sort());
    // Each writer's own lines stay in its order.
    for (let i = 0; i < WRITERS; i++) {
      expect(lines.filter((l) => l.startsWith(`c${i}-`))).toEqual(expected.slice(i * LINES, (i + 1) * LINES));
    }
    expect(env.volumes.usedBy('shared')).toEqual([]);
  });

  it(`${CONTESTED_REQUESTS} concurrent creates and removes of one volume name through the API: only 2xx/404/409, and list, database and disk agree`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-contested-'));
    const socketPath = join(root, 'berth.sock');
    const sup = await Supervisor.start({ root, socketPath, workers: 2 });
    try {
      const docker = new Docker({ socketPath });
      const archive = await busyboxArchive(join(root, 'busybox.tar'));
      await new Promise<void>((resolve, reject) => {
        docker.loadImage(archive, {}, (err, stream) => {
          if (err || !stream) return reject(err ?? new Error('no stream'));
          stream.on('end', () => resolve()).on('error', reject).resume();
        });
      });

      const name = 'contested';
      // A shuffled mix (fixed order, so a failure replays): runs of creates and of removes, so every outcome occurs.
      const kinds = shuffle(Array.from({ length: CONTESTED_REQUESTS }, (_, i) => i % 2));
      const op = (i: number): Promise<Answer> =>
        kinds[i] === 0
          ? api(socketPath, 'POST', '/volumes/create', { Name: name, Labels: { n: String(i) } })
          : api(socketPath, 'DELETE', `/volumes/${name}${i % 4 === 1 ? '?force=1' : ''}`);
      const wave = async (from: number, to: number): Promise<Answer[]> => {
        const out: Promise<Answer>[] = [];
        for (let i = from; i < to; i++) {
          out.push(op(i));
          if (i % 10 === 9) await sleep(20);
        }
        return Promise.all(out);
      };
      const runUser = async (cmd: string): Promise<number> => {
        const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { Binds: [`${name}:/data`] } });
        await c.start();
        const { StatusCode } = (await c.wait()) as { StatusCode: number };
        await c.remove();
        return StatusCode;
      };

      // First half while a container holds the volume: its removes must be 409s, never a 500 or a removal.
      const holder = runUser('touch /data/held; while [ ! -e /data/release ]; do usleep 20000; done');
      while (!existsSync(join(root, 'volumes', name, '_data', 'held'))) await sleep(20);
      const held = await wave(0, CONTESTED_REQUESTS / 2);
      writeFileSync(join(root, 'volumes', name, '_data', 'release'), '');
      const holderExit = await holder;
      // Second half with short-lived users starting at the same time (a start after a remove creates the volume again).
      const [free, exits] = await Promise.all([
        wave(CONTESTED_REQUESTS / 2, CONTESTED_REQUESTS),
        Promise.all(Array.from({ length: 6 }, () => runUser('echo x >> /data/users'))),
      ]);
      const answers = [...held, ...free];
      expect(held.filter((a) => a.method === 'DELETE').map((a) => a.status)).toEqual(held.filter((a) => a.method === 'DELETE').map(() => 409));
      expect([holderExit, ...exits]).toEqual([0, 0, 0, 0, 0, 0, 0]);

      const counts: Record<number, number> = {};
      for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
      console.log(`[contested] statuses ${JSON.stringify(counts)}`);
      const bad = answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 404 && a.status !== 409);
      expect(bad, JSON.stringify(bad)).toEqual([]);
      // Every outcome happened: the race was real.
      for (const status of [201, 204, 404, 409]) expect(counts[status] ?? 0, `no ${status} answer`).toBeGreaterThan(0);

      const listed = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).sort();
      await sup.close();

      const db = new Database(join(root, 'volumes', 'metadata.db'), { readonly: true, fileMustExist: true });
      let inDb: string[];
      let refs: unknown[];
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        inDb = (db.prepare('SELECT name FROM volumes ORDER BY name').all() as { name: string }[]).map((r) => r.name);
        refs = db.prepare('SELECT volume, container FROM refs').all();
      } finally {
        db.close();
      }
      const onDisk = readdirSync(join(root, 'volumes')).filter((n) => !n.startsWith('metadata.db')).sort();
      expect({ listed, onDisk }).toEqual({ listed: inDb, onDisk: inDb });
      expect(refs).toEqual([]);
      for (const v of inDb) expect(existsSync(join(root, 'volumes', v, '_data'))).toBe(true);
    } finally {
      await sup.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it(`${LAUNCHES} launches back to back: fds grow by ≤ ${MAX_FD_GROWTH}, RSS by ≤ ${MAX_RSS_GROWTH_MIB} MiB after a warm-up of ${WARM_UP}; no mounts, cgroups, directories or processes left`, async () => {
    const cgroups = Cgroups.detect();
    const nsMounts = namespaceMountTable(env.mountNamespace);
    const launched: { id: string; pid: number; startTime: number }[] = [];
    let fdsAfterWarmUp = 0;
    let rssAfterWarmUp = 0;
    const t0 = Date.now();
    for (let n = 0; n < LAUNCHES; n++) {
      // Every third launch gets a pids limit, so it has a cgroup to clean up; every fifth a named volume and a tmpfs.
      const hostConfig = {
        ...(n % 3 === 0 ? { PidsLimit: 64 } : {}),
        ...(n % 5 === 0 ? { Binds: ['load:/data'], Tmpfs: { '/run': 'size=1m' } } : {}),
      };
      const r = await env.run(['true'], hostConfig);
      expect(r.status.exitCode, r.output).toBe(0);
      launched.push({ id: r.started.id, pid: r.started.pid, startTime: r.started.startTime });
      if (n + 1 === WARM_UP) {
        await env.layers.idle();
        fdsAfterWarmUp = openFds();
        rssAfterWarmUp = rssMiB();
      }
    }
    await env.layers.idle();
    const seconds = (Date.now() - t0) / 1000;
    const fdGrowth = openFds() - fdsAfterWarmUp;
    const rssGrowth = rssMiB() - rssAfterWarmUp;
    console.log(`[load] ${LAUNCHES} launches in ${seconds.toFixed(1)} s; after the warm-up of ${WARM_UP}: fds +${fdGrowth}, RSS ${rssAfterWarmUp.toFixed(1)} -> ${(rssAfterWarmUp + rssGrowth).toFixed(1)} MiB (+${rssGrowth.toFixed(1)})`);
    expect(fdGrowth, `open fds grew by ${fdGrowth}`).toBeLessThanOrEqual(MAX_FD_GROWTH);
    expect(rssGrowth, `RSS grew by ${rssGrowth.toFixed(1)} MiB`).toBeLessThanOrEqual(MAX_RSS_GROWTH_MIB);

    const ids = new Set(launched.map((l) => l.id));
    expect(namespaceMountTable(env.mountNamespace)).toBe(nsMounts);
    expect(hostMountTable()).toBe(hostMounts);
    // Leftovers are recorded, then removed (only ours, by id and pid) before asserting, so a red run leaves the host clean.
    const cgroupsLeft = existing(launched.flatMap((l) => cgroups.pathsFor(l.id)));
    const processesLeft = launched.filter((l) => processStartTime(l.pid) === l.startTime);
    for (const p of processesLeft) process.kill(p.pid, 'SIGKILL');
    await sleep(processesLeft.length > 0 ? 500 : 0);
    for (const dir of cgroupsLeft) rmdirSync(dir); // an empty cgroup: rmdir, never a recursive delete
    expect(cgroupsLeft).toEqual([]);
    expect(processesLeft).toEqual([]);
    expect(readdirSync(join(env.root, 'containers')).filter((n) => ids.has(n))).toEqual([]);
    expect(env.volumes.usedBy('load')).toEqual([]);
    // No volume other than the named ones (anonymous ones would be a leak too).
    expect(env.volumes.list().map((v) => v.Name).sort()).toEqual(['load', 'shared']);
  }, 180_000);
});

/** A fixed shuffle (mulberry32, seed 8), so the request order is the same on every run. */
function shuffle<T>(items: T[]): T[] {
  let a = 8;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

interface Answer { method: string; path: string; status: number; body: string }

/** One raw request on the socket, so every status code is seen as sent. */
function api(socketPath: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      socketPath, method, path: `/v1.47${path}`,
      headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ method, path, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
