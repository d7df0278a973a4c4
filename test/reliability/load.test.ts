/**
 * Load and concurrency: many containers appending to one shared volume,
 * racing create/remove of one volume name through the API, and 500 launches
 * back to back through the library with no growth in fds or memory and
 * nothing left behind.
 */
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRoot } from '../../tools/testing/root.js';
import { openTestEnv, type TestEnv } from '../../tools/testing/runtime-env.js';
import { inconsistencies, readBerthState } from './harness/berth-state.js';
import { Daemon } from './harness/daemon.js';
import { berthCgroups, hostMountTable, mountTableChanges, openFdCount, rssBytes } from './harness/host-state.js';
import { BUSYBOX_TAG, busyboxArchive } from './harness/images.js';

const LAUNCHES = 500;
const FD_BOUND = 8;
const RSS_BOUND_MB = 64;

function status(socketPath: string, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describeRoot('load and concurrency', () => {
  let mountsBefore: string;
  let cgroupsBefore: string[];
  beforeAll(() => {
    mountsBefore = hostMountTable();
    cgroupsBefore = berthCgroups();
  });
  afterAll(() => {
    expect(mountTableChanges(mountsBefore)).toEqual([]);
    expect(berthCgroups().filter((c) => !cgroupsBefore.includes(c)), 'cgroups left behind').toEqual([]);
  });

  describe('through the supervisor API', () => {
    let base: string;
    let daemon: Daemon;
    beforeAll(async () => {
      base = mkdtempSync(join(tmpdir(), 'berth-load-'));
      daemon = new Daemon({ root: join(base, 'root'), socketPath: join(base, 'berth.sock'), logPath: join(base, 'daemon.log'), workers: 2 });
      await daemon.start();
      for await (const _ of (await daemon.docker.loadImage(createReadStream(await busyboxArchive(join(base, 'bb.tar'))))) as AsyncIterable<Buffer>) { /* drain */ }
    });
    afterAll(async () => {
      for (const c of await daemon.docker.listContainers({ all: true }).catch(() => [])) {
        await daemon.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
      await daemon.stop();
      rmSync(base, { recursive: true, force: true });
    });

    it('50 containers appending 20 lines each to one file in a shared volume: all 1000 lines are there', async () => {
      const docker = daemon.docker;
      const ids = await Promise.all(Array.from({ length: 50 }, async (_, n) => {
        const ctr = await docker.createContainer({
          Image: BUSYBOX_TAG, Cmd: ['sh', '-c', `i=0; while [ $i -lt 20 ]; do echo "c${n}-$i" >> /shared/log; i=$((i+1)); done`],
          HostConfig: { Binds: ['shared:/shared'] },
        });
        const waited = ctr.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
        await ctr.start();
        expect((await waited).StatusCode).toBe(0);
        return ctr.id;
      }));
      const lines = readFileSync(join(base, 'root', 'volumes', 'shared', '_data', 'log'), 'utf8').trim().split('\n');
      const expected = Array.from({ length: 50 }, (_, n) => Array.from({ length: 20 }, (_, i) => `c${n}-${i}`)).flat();
      expect(lines.length).toBe(1000);
      expect([...lines].sort()).toEqual([...expected].sort());
      for (const id of ids) await docker.getContainer(id).remove();
    }, 120_000);

    it('100 concurrent creates and removes of one volume name: no 5xx, and the end state is consistent', async () => {
      const sock = daemon.opts.socketPath;
      const statuses = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0
        ? status(sock, 'POST', '/volumes/create', JSON.stringify({ Name: 'contested' }))
        : status(sock, 'DELETE', '/volumes/contested'))));
      expect(statuses.filter((s) => ![201, 204, 404, 409].includes(s)), `statuses ${statuses.join(',')}`).toEqual([]);
      const listed = ((await daemon.docker.listVolumes()).Volumes ?? []).some((v) => v.Name === 'contested');
      expect(existsSync(join(base, 'root', 'volumes', 'contested', '_data'))).toBe(listed);
      expect(inconsistencies(readBerthState(join(base, 'root')))).toEqual([]);
    }, 60_000);
  });

  describe('through the library Runtime', () => {
    let env: TestEnv;
    beforeAll(async () => {
      env = await openTestEnv({ workers: 2 });
    });
    afterAll(async () => {
      await env?.close();
    });

    it(`${LAUNCHES} launches back to back: fds grow by at most ${FD_BOUND}, RSS by at most ${RSS_BOUND_MB} MiB; no mounts, cgroups or container dirs left`, async () => {
      const launch = async (): Promise<void> => {
        const r = await env.run(['true'], { Binds: ['loadvol:/v'] });
        expect(r.status.exitCode).toBe(0);
      };
      for (let i = 0; i < 20; i++) await launch(); // warm the pool and the caches
      const fds = openFdCount();
      const rss = rssBytes();
      const cgroups = berthCgroups();
      const started = Date.now();
      for (let i = 0; i < LAUNCHES; i++) await launch();
      const seconds = (Date.now() - started) / 1000;
      const fdGrowth = openFdCount() - fds;
      const rssGrowthMb = (rssBytes() - rss) / 1024 / 1024;
      console.log(`[load] ${LAUNCHES} launches in ${seconds.toFixed(1)} s; fds ${fds} -> +${fdGrowth}; RSS +${rssGrowthMb.toFixed(1)} MiB`);
      expect(fdGrowth).toBeLessThanOrEqual(FD_BOUND);
      expect(rssGrowthMb).toBeLessThanOrEqual(RSS_BOUND_MB);
      expect(mountTableChanges(mountsBefore)).toEqual([]);
      expect(berthCgroups().filter((c) => !cgroups.includes(c))).toEqual([]);
      expect(readdirSync(join(env.root, 'containers'))).toEqual([]);
      expect(env.volumes.usedBy('loadvol')).toEqual([]);
    }, 300_000);
  });
});
