import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerStore } from '../../src/container-store.js';
import type { Lifecycle } from '../../src/lifecycle.js';
import { nextRestartDelay, parseRestartPolicy, shouldRestart } from '../../src/restart-policy.js';
import { containerPaths } from '../../src/stdio.js';
import type { FakeEngine } from '../helpers/fake-engine.js';
import { LifecycleFixture } from '../helpers/lifecycle-fixture.js';

describe('restart policy rules (moby)', () => {
  it("validates with moby's messages", () => {
    expect(parseRestartPolicy(undefined)).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy({ Name: '', MaximumRetryCount: 5 })).toEqual({ name: 'no', maximumRetryCount: 0 }); // old clients
    expect(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 })).toEqual({ name: 'on-failure', maximumRetryCount: 3 });
    expect(() => parseRestartPolicy({ Name: 'sometimes' }))
      .toThrow("invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    expect(() => parseRestartPolicy({ Name: 'always', MaximumRetryCount: 2 }))
      .toThrow("invalid restart policy: maximum retry count can only be used with 'on-failure'");
    expect(() => parseRestartPolicy({ Name: 'no', MaximumRetryCount: -2 }))
      .toThrow("invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
    expect(() => parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 })).toThrow('invalid restart policy: maximum retry count cannot be negative');
  });

  it('decides as the restart manager: always, unless-stopped unless stopped, on-failure on non-zero within its count', () => {
    const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({ exitCode, restartCount, manuallyStopped });
    expect(shouldRestart(parseRestartPolicy({ Name: 'always' }), exit(0, 0, true))).toBe(true);
    expect(shouldRestart(parseRestartPolicy({ Name: 'unless-stopped' }), exit(0))).toBe(true);
    expect(shouldRestart(parseRestartPolicy({ Name: 'unless-stopped' }), exit(0, 0, true))).toBe(false);
    expect(shouldRestart(parseRestartPolicy({ Name: 'on-failure' }), exit(0))).toBe(false);
    expect(shouldRestart(parseRestartPolicy({ Name: 'on-failure' }), exit(1, 1000))).toBe(true);
    expect(shouldRestart(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 2 }), exit(1, 1))).toBe(true);
    expect(shouldRestart(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 2 }), exit(1, 2))).toBe(false);
    expect(shouldRestart(parseRestartPolicy({ Name: 'no' }), exit(1))).toBe(false);
    expect([0, 100, 200, 400].map((d) => nextRestartDelay(d, 50))).toEqual([100, 200, 400, 800]);
    expect(nextRestartDelay(51_200, 50)).toBe(60_000);
    expect(nextRestartDelay(60_000, 50)).toBe(60_000);
    expect(nextRestartDelay(6_400, 10_000)).toBe(100); // a run of 10 s starts the backoff over
  });
});

describe('Lifecycle with restart policies (host processes)', () => {
  let f: LifecycleFixture;
  let root: string;
  let store: ContainerStore;
  let engine: FakeEngine;
  let lc: Lifecycle;
  const open = (): Lifecycle => f.open();

  beforeEach(() => {
    f = new LifecycleFixture('berth-restart-');
    ({ root, store, engine, lc } = f);
  });
  afterEach(() => f.dispose());

  async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }
  const create = async (cmd: string, policy: Record<string, unknown>): Promise<string> =>
    (await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', cmd], HostConfig: { RestartPolicy: policy } })).Id;
  const startsOf = (id: string): number => engine.started.filter((r) => r.id === id).length;

  it('on-failure:2 runs a failing command three times with a growing backoff, then leaves it exited, every run in the log', async () => {
    const id = await create('echo run; exit 3', { Name: 'on-failure', MaximumRetryCount: 2 });
    const t0 = Date.now();
    await lc.start(id);
    await until('two restarts', () => store.get(id).restartCount === 2 && store.get(id).state === 'exited' && !lc.isRestarting(id));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // 100 ms, then 200 ms
    await sleep(300);
    expect(startsOf(id)).toBe(3);
    expect(store.get(id)).toMatchObject({ exitCode: 3, restartCount: 2, manuallyStopped: false });
    const log = readFileSync(containerPaths(root, id).log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log);
    expect(log).toEqual(['run\n', 'run\n', 'run\n']);
  });

  it('always: a kill is a crash and it comes back; a stop is final, also between two restarts', async () => {
    const id = await create('sleep 100', { Name: 'always' });
    await lc.start(id);
    await lc.kill(id, 'KILL');
    await until('the restart after the kill', () => lc.isRunning(id) && startsOf(id) === 2);
    expect(store.get(id).restartCount).toBe(1);
    await lc.stop(id, 0);
    await sleep(300);
    expect(startsOf(id)).toBe(2);
    expect(store.get(id)).toMatchObject({ state: 'exited', manuallyStopped: true });
    expect(lc.isRestarting(id)).toBe(false);

    const failing = await create('exit 1', { Name: 'always' });
    await lc.start(failing);
    await until('a scheduled restart', () => lc.isRestarting(failing));
    await lc.stop(failing);
    expect(lc.isRestarting(failing)).toBe(false);
    const starts = startsOf(failing);
    await sleep(300);
    expect(startsOf(failing)).toBe(starts);
  });

  it('a user start resets the count; restart stops and starts; rm refuses a restarting container unless forced', async () => {
    const id = await create('sleep 100', { Name: 'unless-stopped' });
    await lc.start(id);
    const pid = store.get(id).pid;
    await lc.restart(id, 0);
    expect(lc.isRunning(id)).toBe(true);
    expect(store.get(id).pid).not.toBe(pid);
    expect(store.get(id)).toMatchObject({ restartCount: 0, manuallyStopped: false });

    const looping = await create('exit 1', { Name: 'on-failure' });
    await lc.start(looping);
    await until('a scheduled restart', () => lc.isRestarting(looping));
    await expect(lc.remove(looping)).rejects.toThrow(`cannot remove container "/${store.get(looping).name}": container is restarting: stop the container before removing or force remove`);
    await lc.remove(looping, { force: true });
    expect(lc.isRestarting(looping)).toBe(false);
    expect(store.find(looping)).toBeUndefined();
    await expect(lc.create({ Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }))
      .rejects.toThrow("can't create 'AutoRemove' container with restart policy");
  });

  it('a supervisor start brings back always (even stopped) and unless-stopped (unless stopped), as dockerd does', async () => {
    const always = await create('sleep 100', { Name: 'always' });
    const unless = await create('sleep 100', { Name: 'unless-stopped' });
    const stopped = await create('sleep 100', { Name: 'unless-stopped' });
    const plain = await create('sleep 100', {});
    for (const id of [always, unless, stopped, plain]) await lc.start(id);
    await lc.stop(always, 0);
    await lc.stop(stopped, 0);
    // The host reboots: every container ends while no supervisor runs.
    await lc.kill(unless, 'KILL');
    await until('the unless-stopped restart', () => lc.isRunning(unless));
    lc.close();
    for (const pid of engine.pids) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
    await until('every process gone', () => engine.pids.size === 0);
    lc = open();
    await lc.recover();
    expect(lc.isRunning(always)).toBe(true); // exited before: started by recover itself
    // Ended while no supervisor ran: its exit is found at recover, and the policy restarts it.
    await until('the unless-stopped container back', () => lc.isRunning(unless));
    expect(lc.isRunning(stopped)).toBe(false);
    expect(lc.isRunning(plain)).toBe(false);
    expect(store.get(always).manuallyStopped).toBe(false);
  });
});
