import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerStore } from '../../src/container-store.js';
import type { Lifecycle } from '../../src/lifecycle.js';
import { containerPaths } from '../../src/stdio.js';
import type { FakeEngine } from '../helpers/fake-engine.js';
import { LifecycleFixture } from '../helpers/lifecycle-fixture.js';

describe('Lifecycle (real output files and logs, host processes)', () => {
  let f: LifecycleFixture;
  let root: string;
  let store: ContainerStore;
  let engine: FakeEngine;
  let lc: Lifecycle;
  const open = (): Lifecycle => f.open();

  beforeEach(() => {
    f = new LifecycleFixture('berth-lc-');
    ({ root, store, engine, lc } = f);
  });
  afterEach(() => f.dispose());

  const logOf = (id: string): { log: string; stream: string }[] =>
    readFileSync(containerPaths(root, id).log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string });

  it('runs to exit with every byte of stdout and stderr in the json log before it counts as exited', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; head -c 100000 /dev/zero | tr "\\0" x; exit 3'] });
    const w = lc.wait(Id, 'next-exit');
    await lc.start(Id);
    expect(await w.result).toEqual({ StatusCode: 3, Error: null });
    const rec = store.get(Id);
    expect(rec.state).toBe('exited');
    const log = logOf(Id);
    expect(log).toContainEqual(expect.objectContaining({ log: 'out\n', stream: 'stdout' }));
    expect(log).toContainEqual(expect.objectContaining({ log: 'err\n', stream: 'stderr' }));
    expect(log.filter((r) => r.stream === 'stdout').map((r) => r.log).join('').length).toBe(4 + 100000);
    expect(readFileSync(containerPaths(root, Id).log, 'utf8')).toMatch(/"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"/);
  });

  it('counts a container as exited only once all its output is in the log, a child\'s and a last partial line included', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', '(seq 1 3000) & wait; printf "no newline"'] });
    const w = lc.wait(Id, 'next-exit');
    await lc.start(Id);
    await w.result;
    const expected = Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join('') + 'no newline';
    expect(logOf(Id).map((r) => r.log).join('')).toBe(expected);
    // The json log is the record now: the raw files are gone once the exit is recorded.
    expect(existsSync(containerPaths(root, Id).stdout)).toBe(false);
    await lc.remove(Id);
    expect(existsSync(containerPaths(root, Id).dir)).toBe(false);
  });

  it('auto-removes with anonymous volumes and then wakes `removed` waiters', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['true'], Volumes: { '/anon': {} }, HostConfig: { AutoRemove: true } });
    const w = lc.wait(Id, 'removed');
    await lc.start(Id);
    expect((await w.result).StatusCode).toBe(0);
    expect(store.find(Id)).toBeUndefined();
    expect(engine.cleanups).toEqual([{ id: Id, removeAnonymousVolumes: true, anonymousVolumes: [`${Id.slice(0, 8)}anon0`], waitForDeletion: false }]);
    expect(existsSync(containerPaths(root, Id).log)).toBe(false);
  });

  it('refuses to remove a running container without force; rm -f returns after the reap', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sleep', '30'] }, 'sleeper');
    await lc.start(Id);
    await expect(lc.start(Id)).rejects.toMatchObject({ code: 'NotModified' });
    await expect(lc.remove('sleeper')).rejects.toThrow(/container is running/);
    const pid = store.get(Id).pid;
    await lc.remove('sleeper', { force: true });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(store.find(Id)).toBeUndefined();
    expect(engine.cleanups[0]).toMatchObject({ id: Id, removeAnonymousVolumes: false });
  });

  it('stop sends SIGTERM then SIGKILL after the timeout; kill and stop on a stopped container are refused', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'trap "" TERM; sleep 5 >/dev/null 2>&1 & wait; sleep 5 >/dev/null 2>&1'] });
    await lc.start(Id);
    await new Promise((r) => setTimeout(r, 300)); // let sh install its trap
    const t0 = Date.now();
    await lc.stop(Id, 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(store.get(Id)).toMatchObject({ state: 'exited', exitCode: 137 });
    await expect(lc.stop(Id)).rejects.toMatchObject({ code: 'NotModified' });
    await expect(lc.kill(Id, 'TERM')).rejects.toMatchObject({ code: 'Conflict' });
  });

  it('re-adopts a running container after a supervisor restart and drains output written meanwhile', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo before; sleep 0.6; echo during; sleep 0.3; exit 5'] });
    await lc.start(Id);
    await new Promise((r) => setTimeout(r, 200));
    lc.close(); // the supervisor "dies": the container keeps running and writing into its output file
    await new Promise((r) => setTimeout(r, 600));
    lc = open();
    const report = await lc.recover();
    expect(report.adopted).toEqual([Id]);
    const w = lc.wait(Id, 'not-running');
    expect(await w.result).toEqual({ StatusCode: 5, Error: null });
    expect(logOf(Id).map((r) => r.log)).toEqual(['before\n', 'during\n']);
  });

  it('gives a container that exited while the supervisor was down its real exit code', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 9'] });
    await lc.start(Id);
    lc.close();
    await new Promise((r) => setTimeout(r, 700));
    lc = open();
    const report = await lc.recover();
    expect(report.exited).toEqual([Id]);
    await lc.settle();
    expect(store.get(Id)).toMatchObject({ state: 'exited', exitCode: 9 });
  });

  it('records a start failure and leaves the container created', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['true'] });
    engine.failStart = new Error('no worker');
    await expect(lc.start(Id)).rejects.toThrow('no worker');
    expect(store.get(Id)).toMatchObject({ state: 'created', exitCode: 128, error: 'no worker' });
  });
});
