/**
 * Healthchecks against a real supervisor with the docker CLI and dockerode:
 * `--health-*` flags, an image HEALTHCHECK and `--no-healthcheck`, the
 * `health_status` events, the stored State.Health (last 5 results, output
 * cut at 4096 bytes, timeouts) and its survival across a supervisor restart.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readHealth, Supervisor, type HealthState } from '../../src/index.js';
import { busyboxImageArchive } from '../helpers/busybox-image.js';
import { describeRoot } from '@berth/testing';

const run = promisify(execFile);

describeRoot('healthchecks (docker CLI, dockerode)', () => {
  let root: string;
  let state: string;
  let socketPath: string;
  let sup: Supervisor;
  let docker: Docker;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socketPath}`, DOCKER_CONFIG: join(root, 'docker-config') });
  const cli = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('docker', args, { env: env(), encoding: 'utf8' });

  /** Polls the stored State.Health until `ok` holds (probes run every few hundred ms here). */
  async function until(id: string, ok: (h: HealthState | undefined) => boolean, what: string): Promise<HealthState | undefined> {
    for (let i = 0; i < 200; i++) {
      const h = readHealth(state, id);
      if (ok(h)) return h;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(readHealth(state, id))}`);
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-health-'));
    state = join(root, 'state');
    socketPath = join(root, 'berth.sock');
    sup = await Supervisor.start({ root: state, socketPath, workers: 1 });
    docker = new Docker({ socketPath });
    const loaded = await docker.loadImage(Buffer.from(await busyboxImageArchive()) as unknown as NodeJS.ReadableStream);
    await new Promise((r) => (loaded as NodeJS.ReadableStream).on('end', r).resume());
  });

  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
    await sup.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('--health-cmd: starting, unhealthy after the retries, healthy again, with health_status events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await cli('run', '-d', '--health-cmd', 'test -f /tmp/ok && echo fine', '--health-interval', '300ms',
      '--health-retries', '2', 'berth-test/busybox', 'sleep', '300')).stdout.trim();
    expect(readHealth(state, id)?.Status).toBe('starting');
    const bad = await until(id, (h) => h?.Status === 'unhealthy', 'unhealthy');
    expect(bad?.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(bad?.Log.every((r) => r.ExitCode === 1)).toBe(true);
    await cli('exec', id, 'touch', '/tmp/ok');
    const good = await until(id, (h) => h?.Status === 'healthy', 'healthy');
    expect(good?.FailingStreak).toBe(0);
    expect(good?.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'fine\n' });
    // Only the last 5 results are kept.
    await until(id, (h) => (h?.Log.length ?? 0) === 5, 'five results');
    await new Promise((r) => setTimeout(r, 700));
    expect(readHealth(state, id)?.Log.length).toBe(5);
    const until_ = Math.ceil(Date.now() / 1000) + 1;
    const events = (await cli('events', '--since', String(since), '--until', String(until_), '--filter', `container=${id}`, '--format', '{{.Action}}')).stdout;
    expect(events).toContain('health_status: unhealthy\n');
    expect(events).toContain('health_status: healthy\n');
  });

  it('output is cut at 4096 bytes; a probe past its timeout fails with Docker\'s message', async () => {
    const long = (await cli('run', '-d', '--health-cmd', "head -c 10000 /dev/zero | tr '\\0' x", '--health-interval', '300ms',
      'berth-test/busybox', 'sleep', '300')).stdout.trim();
    const h = await until(long, (s) => s?.Status === 'healthy', 'healthy');
    expect(h?.Log.at(-1)?.Output.length).toBe(4096);
    const slow = (await cli('run', '-d', '--health-cmd', 'sleep 5', '--health-interval', '300ms', '--health-timeout', '300ms',
      '--health-retries', '1', 'berth-test/busybox', 'sleep', '300')).stdout.trim();
    const timedOut = await until(slow, (s) => s?.Status === 'unhealthy', 'unhealthy');
    expect(timedOut?.Log.at(-1)).toMatchObject({ ExitCode: -1, Output: 'Health check exceeded timeout (300ms)' });
  });

  it("an image's HEALTHCHECK runs; --no-healthcheck turns it off", async () => {
    // Never started: the commit is the image plus an empty layer.
    await cli('create', '--name', 'base', 'berth-test/busybox', 'true');
    // The image gets its HEALTHCHECK from the commit's config (as `docker commit` with a Config body).
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath, method: 'POST', path: '/commit?container=base&repo=withhealth', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ Healthcheck: { Test: ['CMD-SHELL', 'echo from-image'], Interval: 300_000_000 } }));
    });
    expect(status).toBe(201);
    const id = (await cli('run', '-d', 'withhealth', 'sleep', '300')).stdout.trim();
    const h = await until(id, (s) => s?.Status === 'healthy', 'healthy from the image');
    expect(h?.Log.at(-1)?.Output).toBe('from-image\n');
    const off = (await cli('run', '-d', '--no-healthcheck', 'withhealth', 'sleep', '300')).stdout.trim();
    await new Promise((r) => setTimeout(r, 800));
    expect(readHealth(state, off)).toBeUndefined();
    expect(existsSync(join(state, 'supervisor', off, 'health.json'))).toBe(false);
  });

  it('survives a supervisor restart: the state is kept and probing resumes', async () => {
    const id = (await cli('run', '-d', '--health-cmd', 'true', '--health-interval', '300ms', 'berth-test/busybox', 'sleep', '300')).stdout.trim();
    await until(id, (s) => s?.Status === 'healthy', 'healthy');
    await sup.close();
    const kept = readHealth(state, id);
    expect(kept?.Status).toBe('healthy');
    sup = await Supervisor.start({ root: state, socketPath, workers: 1 });
    docker = new Docker({ socketPath });
    const lastBefore = kept?.Log.at(-1)?.End ?? '';
    const resumed = await until(id, (s) => (s?.Log.at(-1)?.End ?? '') > lastBefore, 'a probe after the restart');
    expect(resumed?.Status).toBe('healthy');
  });
});
