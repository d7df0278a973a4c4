/**
 * Crash safety: a seeded mixed workload through the supervisor's API, with
 * the supervisor SIGKILLed at random moments and restarted, and after every
 * restart a full audit of the root against what the workload was told.
 *
 * Short mode (CI): ~200 operations, 4 kills. `BERTH_SOAK=long`: thousands
 * (`BERTH_SOAK_OPS` overrides the count). `BERTH_SEED` replays a run.
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inconsistencies, isAnonymousName, networkLeaks, readBerthState } from './harness/berth-state.js';
import { BUSYBOX_TAG, busyboxArchive, variantArchives } from './harness/images.js';
import { seededRng, seedFromEnv, type Rng } from './harness/random.js';
import {
  Daemon, berthCgroups, containerInits, describeRoot, hostMountTable, hostNetworkState, mountTableChanges, netnsHolders, parkedSandboxes, startTimeOf,
  waitContainer,
} from '@berth/testing';

const LONG = process.env['BERTH_SOAK'] === 'long';
const TOTAL_OPS = Number(process.env['BERTH_SOAK_OPS'] ?? (LONG ? 3000 : 200));
const KILLS = LONG ? Math.ceil(TOTAL_OPS / 60) : 4;
const LANES = 3;
const PRECIOUS = ['keep-0', 'keep-1', 'keep-2'];
const CHURN = ['churn-0', 'churn-1', 'churn-2', 'churn-3', 'churn-4'];
const VARIANTS = 3;
const MAX_LONG = 3;
const OP_TIMEOUT_MS = 30_000;

type Kind =
  | 'runShort' | 'runLong' | 'stopLong' | 'removeExited' | 'volumeCreate' | 'volumeRemove' | 'volumePrune'
  | 'imageLoad' | 'imageRemove' | 'read';
const WEIGHTS: [Kind, number][] = [
  ['runShort', 32], ['runLong', 7], ['stopLong', 5], ['removeExited', 6], ['volumeCreate', 12], ['volumeRemove', 12],
  ['volumePrune', 5], ['imageLoad', 6], ['imageRemove', 3], ['read', 12],
];

/** One planned operation: its kind and the random numbers it draws from, fixed by the seed. */
interface PlannedOp { n: number; kind: Kind; r: number[] }

function plan(rng: Rng): PlannedOp[] {
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
  return Array.from({ length: TOTAL_OPS }, (_, n) => {
    let x = rng.int(total);
    const kind = WEIGHTS.find(([, w]) => (x -= w) < 0)![0];
    return { n, kind, r: Array.from({ length: 6 }, () => rng.next()) };
  });
}

interface LongRunning { id: string; pid: number; startTime: number }

/** What the workload knows for certain, and what a crash left uncertain. */
class Model {
  /** volume -> tokens written by containers that completed (exit 0 seen). */
  readonly tokens = new Map<string, Set<string>>();
  /** bind files written by completed containers: host path -> token. */
  readonly bindFiles = new Map<string, string>();
  readonly long = new Map<string, LongRunning>();
  readonly exited = new Set<string>();
  /** Long-running containers whose forced removal lost its answer to a kill. */
  readonly stopping = new Set<string>();
  /** Churn volumes a remove/prune may have removed while the answer was lost. */
  readonly maybeRemoved = new Set<string>();
  /** Anonymous volumes left dangling on purpose: `rm` without `-v` keeps them, as Docker does. */
  readonly dangling = new Set<string>();
  /** Every container process seen, to check none is left at the end. */
  readonly pids = new Map<number, number>();
  /** Every container this workload created (their namespace holders are this test's to check). */
  readonly created = new Set<string>();
  readonly failures: string[] = [];
  uncertain = 0;
  completed = 0;

  /** Bumped whenever a volume may have been removed; a run that overlapped it cannot vouch for its token. */
  readonly generation = new Map<string, number>();
  bump(volume: string): void {
    this.generation.set(volume, (this.generation.get(volume) ?? 0) + 1);
    this.tokens.delete(volume);
  }

  addToken(volume: string, token: string): void {
    if (!this.tokens.has(volume)) this.tokens.set(volume, new Set());
    this.tokens.get(volume)!.add(token);
  }
}

const debug = (line: string): void => {
  if (process.env['BERTH_DEBUG']) console.log(`[crash-safety] ${new Date().toISOString().slice(11, 23)} ${line}`);
};

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

describeRoot('crash safety: SIGKILL the supervisor during a mixed workload', () => {
  let base: string;
  let root: string;
  let daemon: Daemon;
  let docker: Docker;
  let mountsBefore: string;
  let cgroupsBefore: string[];
  let networkBefore: ReturnType<typeof hostNetworkState>;
  const seed = seedFromEnv('crash-safety');
  const rng = seededRng(seed);
  const model = new Model();
  let variants: { tag: string; path: string }[] = [];
  let crashed = false;
  const replay = `(seed ${seed}: replay with BERTH_SEED=${seed})`;

  beforeAll(async () => {
    mountsBefore = hostMountTable();
    cgroupsBefore = berthCgroups();
    networkBefore = hostNetworkState();
    base = mkdtempSync(join(tmpdir(), 'berth-crash-'));
    root = join(base, 'root');
    mkdirSync(join(base, 'binds'));
    daemon = new Daemon({ root, socketPath: join(base, 'berth.sock'), logPath: join(base, 'daemon.log'), workers: 2 });
    docker = daemon.docker;
    await daemon.start();
    const archive = await busyboxArchive(join(base, 'busybox.tar'));
    await load(archive);
    variants = await variantArchives(base, VARIANTS);
    for (const name of PRECIOUS) await docker.createVolume({ Name: name, Labels: { precious: '1' } });
  });

  afterAll(async () => {
    if (!daemon) return;
    let cleanupError: unknown;
    try {
      if (!daemon.running) await daemon.start();
      for (const c of await docker.listContainers({ all: true })) {
        const removed = docker.getContainer(c.Id).remove({ force: true, v: true });
        await Promise.race([removed, sleep(10_000).then(() => { throw new Error(`removing container ${c.Id} took over 10 s`); })]);
      }
    } catch (err) {
      cleanupError = err;
    } finally {
      await daemon.stop();
    }
    const left = [...model.pids].filter(([pid, start]) => startTimeOf(pid) === start).map(([pid]) => pid);
    // Whatever the daemon failed to stop: our container processes, by pid (the test fails below).
    for (const pid of left) process.kill(pid, 'SIGKILL');
    const cgroupsLeft = berthCgroups().filter((c) => !cgroupsBefore.includes(c));
    const holdersLeft = netnsHolders().filter((h) => model.created.has(h.id));
    const sandboxesLeft = parkedSandboxes(root);
    for (const h of holdersLeft) process.kill(h.pid, 'SIGKILL');
    const containerDirs = existsSync(join(root, 'containers')) ? readBerthState(root).dirs.containers : [];
    if (process.env['BERTH_KEEP'] === undefined) rmSync(base, { recursive: true, force: true });
    else console.log(`[crash-safety] kept ${base}`);
    expect(cleanupError, `cleanup through the API failed\n${daemon.logTail()}`).toBeUndefined();
    expect(left, 'container processes left running after the test').toEqual([]);
    expect(cgroupsLeft, 'cgroups left behind').toEqual([]);
    expect(holdersLeft, 'network namespace holders left behind').toEqual([]);
    expect(sandboxesLeft, 'parked sandboxes left behind').toEqual([]);
    expect(containerDirs, 'container directories left behind').toEqual([]);
    expect(mountTableChanges(mountsBefore), 'host mount table changed').toEqual([]);
    expect(hostNetworkState(), 'host iptables, links or /run/netns changed').toEqual(networkBefore);
  }, 120_000);

  async function load(path: string): Promise<string> {
    const stream = await docker.loadImage(createReadStream(path));
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    if (text.includes('"error"')) throw new Error(`image load failed: ${text}`);
    return text;
  }

  /** Classify a failed call: an HTTP 5xx or an unexpected error is a failure; a lost answer after a kill is uncertain. */
  function failed(op: PlannedOp, err: unknown, allowed: number[] = []): 'allowed' | 'uncertain' {
    const status = statusOf(err);
    if (status !== undefined && allowed.includes(status)) return 'allowed';
    if (status === undefined && crashed) {
      model.uncertain++;
      return 'uncertain';
    }
    model.failures.push(`op ${op.n} ${op.kind}: ${status ?? ''} ${(err as Error).message}`);
    return 'uncertain';
  }

  async function runShort(op: PlannedOp): Promise<void> {
    const [a = 0, b = 0, c = 0, d = 0, e = 0] = op.r;
    // A quarter on Docker's default network (netavark's setup and teardown, ~0.3 s each, one at a
    // time): enough to crash in the middle of them; the rest with none keep the run short.
    const network = e < 0.25 ? {} : { NetworkMode: 'none' };
    const volume = a < 0.5 ? PRECIOUS[Math.floor(a * 2 * PRECIOUS.length)]! : CHURN[Math.floor((a - 0.5) * 2 * CHURN.length)]!;
    const token = `t${op.n}-${seed}`;
    const autoRemove = b < 0.6;
    const anonymous = c < 0.5;
    const bind = d < 0.4 ? join(base, 'binds', `b${op.n % 4}`) : undefined;
    if (bind) mkdirSync(bind, { recursive: true });
    const script = `echo ${token} > /n/${token}` + (bind ? ` && echo ${token} > /b/${token}` : '') + (anonymous ? ' && echo x > /anon/x' : '');
    let id: string | undefined;
    const generation = model.generation.get(volume) ?? 0;
    try {
      const ctr = await docker.createContainer({
        Image: BUSYBOX_TAG, Cmd: ['sh', '-c', script], Labels: { op: String(op.n) },
        ...(anonymous ? { Volumes: { '/anon': {} } } : {}),
        HostConfig: { Binds: [`${volume}:/n`, ...(bind ? [`${bind}:/b`] : [])], AutoRemove: autoRemove, ...network },
      });
      id = ctr.id;
      model.created.add(ctr.id);
      debug(`op ${op.n} created ${ctr.id.slice(0, 12)}`);
      // As the docker CLI does: start only once the daemon has registered the wait.
      const waited = await waitContainer(daemon.opts.socketPath, ctr.id, autoRemove ? 'removed' : 'next-exit');
      await ctr.start();
      debug(`op ${op.n} started`);
      const { StatusCode } = await waited.exited;
      debug(`op ${op.n} waited ${StatusCode}`);
      if (StatusCode !== 0) {
        model.failures.push(`op ${op.n} runShort: exit ${StatusCode} ${replay}`);
        return;
      }
      if ((model.generation.get(volume) ?? 0) === generation) model.addToken(volume, token);
      if (bind) model.bindFiles.set(join(bind, token), token);
      model.completed++;
      if (!autoRemove) {
        if (c < 0.25) await ctr.remove({ v: true });
        else model.exited.add(ctr.id);
      }
    } catch (err) {
      failed(op, err, id === undefined ? [] : [404]);
    }
  }

  async function runLong(op: PlannedOp): Promise<void> {
    if (model.long.size >= MAX_LONG) return read(op);
    const [a = 0, b = 0, c = 0] = op.r;
    const volume = PRECIOUS[Math.floor(a * PRECIOUS.length)]!;
    // Half on Docker's default network: a running container keeps its address across restarts.
    const network = c < 0.5 ? {} : { NetworkMode: 'none' };
    try {
      const ctr = await docker.createContainer({
        Image: BUSYBOX_TAG, Cmd: ['sleep', '100000'], Labels: { op: String(op.n), long: '1' }, Volumes: { '/anon': {} },
        // Not --rm: `rm -f` of a running --rm container has its own test below (it deadlocked).
        HostConfig: { Binds: [`${volume}:/n`], AutoRemove: b < 0, ...network },
      });
      model.created.add(ctr.id);
      await ctr.start();
      const info = await ctr.inspect();
      const start = startTimeOf(info.State.Pid);
      if (!info.State.Running || start === undefined) {
        model.failures.push(`op ${op.n} runLong: not running after start: ${JSON.stringify(info.State)}`);
        return;
      }
      model.long.set(ctr.id, { id: ctr.id, pid: info.State.Pid, startTime: start });
      model.pids.set(info.State.Pid, start);
    } catch (err) {
      failed(op, err);
    }
  }

  async function stopLong(op: PlannedOp): Promise<void> {
    const ids = [...model.long.keys()];
    if (ids.length === 0) return read(op);
    const id = ids[Math.floor((op.r[0] ?? 0) * ids.length)]!;
    // Whatever the answer, we no longer expect it to run; a lost answer may have killed it before the crash.
    model.long.delete(id);
    try {
      await docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (failed(op, err, [404]) === 'uncertain') model.stopping.add(id);
    }
  }

  async function removeExited(op: PlannedOp): Promise<void> {
    const ids = [...model.exited];
    if (ids.length === 0) return read(op);
    const id = ids[Math.floor((op.r[0] ?? 0) * ids.length)]!;
    const v = (op.r[1] ?? 0) < 0.7;
    try {
      if (!v) {
        const info = await docker.getContainer(id).inspect();
        for (const m of info.Mounts) if (m.Type === 'volume' && m.Name && isAnonymousName(m.Name)) model.dangling.add(m.Name);
      }
      await docker.getContainer(id).remove({ v });
      model.exited.delete(id);
    } catch (err) {
      if (failed(op, err, [404]) === 'allowed') model.exited.delete(id);
    }
  }

  async function volumeCreate(op: PlannedOp): Promise<void> {
    const name = CHURN[Math.floor((op.r[0] ?? 0) * CHURN.length)]!;
    try {
      await docker.createVolume({ Name: name });
    } catch (err) {
      failed(op, err);
    }
  }

  async function volumeRemove(op: PlannedOp): Promise<void> {
    const name = CHURN[Math.floor((op.r[0] ?? 0) * CHURN.length)]!;
    try {
      await docker.getVolume(name).remove();
      model.bump(name);
    } catch (err) {
      if (failed(op, err, [404, 409]) === 'uncertain') {
        model.maybeRemoved.add(name);
        model.bump(name);
      }
    }
  }

  async function volumePrune(op: PlannedOp): Promise<void> {
    const all = (op.r[0] ?? 0) < 0.5;
    try {
      const report = await docker.pruneVolumes({ filters: all ? { all: ['true'], 'label!': ['precious'] } : {} });
      for (const name of report.VolumesDeleted ?? []) {
        if (PRECIOUS.includes(name)) model.failures.push(`op ${op.n} volumePrune: removed precious volume ${name}`);
        model.bump(name);
      }
    } catch (err) {
      if (failed(op, err) === 'uncertain' && all) {
        for (const n of CHURN) {
          model.maybeRemoved.add(n);
          model.bump(n);
        }
      }
    }
  }

  async function imageLoad(op: PlannedOp): Promise<void> {
    const v = variants[Math.floor((op.r[0] ?? 0) * variants.length)]!;
    try {
      const text = await load(v.path);
      if (!text.includes(`Loaded image: ${v.tag}`)) model.failures.push(`op ${op.n} imageLoad: ${text}`);
    } catch (err) {
      failed(op, err);
    }
  }

  async function imageRemove(op: PlannedOp): Promise<void> {
    const v = variants[Math.floor((op.r[0] ?? 0) * variants.length)]!;
    try {
      await docker.getImage(v.tag).remove();
    } catch (err) {
      failed(op, err, [404, 409]);
    }
  }

  async function read(op: PlannedOp): Promise<void> {
    try {
      const which = Math.floor((op.r[5] ?? 0) * 3);
      if (which === 0) await docker.listVolumes();
      else if (which === 1) await docker.df();
      else await docker.listContainers({ all: true });
    } catch (err) {
      failed(op, err);
    }
  }

  const RUN: Record<Kind, (op: PlannedOp) => Promise<void>> = {
    runShort, runLong, stopLong, removeExited, volumeCreate, volumeRemove, volumePrune, imageLoad, imageRemove, read,
  };

  /**
   * After a restart: let containers that were mid-run finish (their --rm
   * removal included), adopt what uncertain operations left, and remove
   * containers a crash left created but never started (a user would).
   */
  async function settle(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const list = await docker.listContainers({ all: true });
      const busy = list.filter((c) => c.State === 'running' && c.Labels['long'] !== '1');
      const exitedRm = list.filter((c) => c.State === 'exited' && !model.exited.has(c.Id) && c.Labels['long'] === undefined);
      if (busy.length === 0 || Date.now() > deadline) {
        for (const c of list) {
          if (model.stopping.has(c.Id)) {
            // Finish what the lost `rm -f` asked for.
            await docker.getContainer(c.Id).remove({ force: true, v: true });
          } else if (c.State === 'running' && c.Labels['long'] === '1' && !model.long.has(c.Id)) {
            // Started by an operation whose answer the crash lost: it is ours now.
            const info = await docker.getContainer(c.Id).inspect();
            const start = startTimeOf(info.State.Pid);
            if (start !== undefined) {
              model.long.set(c.Id, { id: c.Id, pid: info.State.Pid, startTime: start });
              model.pids.set(info.State.Pid, start);
            }
          } else if (c.State === 'created') {
            debug(`removing created container ${c.Id} ${JSON.stringify(c.Labels)} ${JSON.stringify(c.Mounts)}`);
            await docker.getContainer(c.Id).remove({ force: true, v: true });
          }
        }
        // Exited containers nobody waits for: an --rm one is removed by the supervisor itself; others we keep.
        for (const c of exitedRm) {
          const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
          if (info && !info.HostConfig.AutoRemove) model.exited.add(c.Id);
        }
        model.stopping.clear();
        if (busy.length === 0) return;
        model.failures.push(`containers still running ${busy.map((c) => c.Id.slice(0, 12)).join(', ')} 20 s after the restart`);
        return;
      }
      await sleep(100);
    }
  }

  /** The audit: everything the issue promises after a restart. */
  async function audit(when: string): Promise<void> {
    // --rm containers that exited are removed asynchronously after their exit is recorded;
    // one being removed (state "removing") has its layer record gone and its directory going.
    const deadline = Date.now() + 10_000;
    const settling = (c: Docker.ContainerInfo): boolean => (c.State === 'exited' && !model.exited.has(c.Id)) || c.State === 'removing';
    let containers = await docker.listContainers({ all: true });
    while (containers.some(settling) && Date.now() < deadline) {
      await sleep(100);
      containers = await docker.listContainers({ all: true });
    }
    const where = `${when} ${replay}`;
    expect(model.failures, `operations that failed ${where}`).toEqual([]);
    expect(mountTableChanges(mountsBefore), `host mount table changed ${where}`).toEqual([]);

    const state = readBerthState(root);
    expect(inconsistencies(state), `metadata and disk disagree ${where}`).toEqual([]);
    expect(networkLeaks(state), `host network state and records disagree ${where}`).toEqual([]);

    // Named volume data written by completed containers is intact.
    const volumes = new Set(((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name));
    for (const p of PRECIOUS) expect(volumes.has(p), `precious volume ${p} is gone ${where}`).toBe(true);
    for (const [volume, tokens] of model.tokens) {
      if (!volumes.has(volume)) {
        expect(model.maybeRemoved.has(volume), `volume ${volume} vanished without a remove ${where}`).toBe(true);
        model.tokens.delete(volume);
        continue;
      }
      for (const token of tokens) {
        const file = join(root, 'volumes', volume, '_data', token);
        expect(existsSync(file) ? readFileSync(file, 'utf8') : 'missing', `${file} ${where}`).toBe(`${token}\n`);
      }
    }
    model.maybeRemoved.clear();
    for (const [file, token] of model.bindFiles) expect(readFileSync(file, 'utf8'), `bind file ${file} ${where}`).toBe(`${token}\n`);

    // Running containers were re-adopted: same pid, same process.
    const inspected = await Promise.all(containers.map((c) => docker.getContainer(c.Id).inspect()));
    for (const l of model.long.values()) {
      const info = inspected.find((i) => i.Id === l.id);
      expect(info?.State.Running, `long-running container ${l.id} ${where}`).toBe(true);
      expect(info?.State.Pid, `pid of ${l.id} ${where}`).toBe(l.pid);
      expect(startTimeOf(l.pid), `process ${l.pid} of ${l.id} ${where}`).toBe(l.startTime);
    }

    // Every container process belongs to a container the supervisor shows as running (none runs unsupervised).
    const running = new Set(inspected.filter((i) => i.State.Running).map((i) => i.Id));
    const inits = containerInits(root).map((p) => p.id);
    // The detector sees what runs: every long-running container's init is among them.
    for (const l of model.long.values()) expect(inits, `init of ${l.id} not found among the processes ${where}`).toContain(l.id);
    expect(inits.filter((id) => !running.has(id)), `container processes the supervisor does not know as running ${where}`).toEqual([]);
    // A bridge container's namespace holder lives only as long as the container runs.
    const holders = netnsHolders().filter((h) => model.created.has(h.id) && !running.has(h.id));
    expect(holders, `network namespace holders of containers that do not run ${where}`).toEqual([]);

    // Anonymous volumes exist only while a container holds them (--rm ones are gone with their container).
    const held = new Map<string, string[]>();
    for (const info of inspected) {
      for (const m of info.Mounts) if (m.Type === 'volume' && m.Name) held.set(m.Name, [...(held.get(m.Name) ?? []), info.Id]);
    }
    for (const v of volumes) {
      if (isAnonymousName(v) && !model.dangling.has(v)) expect(held.has(v), `anonymous volume ${v} outlived its container ${where}`).toBe(true);
    }

    // In-use counts: the API's RefCount, the volume store's references and the containers agree.
    const df = (await docker.df()) as { Volumes: { Name: string; UsageData: { RefCount: number } }[] };
    for (const v of df.Volumes) {
      const holders = (held.get(v.Name) ?? []).sort();
      expect(v.UsageData.RefCount, `RefCount of ${v.Name} ${where}`).toBe(holders.length);
      const started = holders.filter((id) => inspected.find((i) => i.Id === id)?.State.StartedAt !== '0001-01-01T00:00:00Z');
      expect((state.refs.get(v.Name) ?? []).sort(), `volume store references of ${v.Name} ${where}`).toEqual(started.sort());
    }
  }

  async function auditWithLog(when: string): Promise<void> {
    try {
      await audit(when);
    } catch (err) {
      (err as Error).message += `\n--- daemon log (tail) ---\n${daemon.logTail(4000)}`;
      throw err;
    }
  }

  it('rm -f of a running --rm container returns and removes it (and its anonymous volume)', async () => {
    const ctr = await docker.createContainer({
      Image: BUSYBOX_TAG, Cmd: ['sleep', '100000'], Volumes: { '/anon': {} }, HostConfig: { AutoRemove: true },
    });
    await ctr.start();
    const info = await ctr.inspect();
    model.pids.set(info.State.Pid, startTimeOf(info.State.Pid) ?? 0);
    const anon = info.Mounts.find((m) => m.Destination === '/anon')?.Name ?? '';
    const outcome = await Promise.race([ctr.remove({ force: true }).then(() => 'removed'), sleep(10_000).then(() => 'still waiting after 10 s')]);
    expect(outcome).toBe('removed');
    await expect(ctr.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getVolume(anon).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 30_000);

  it(`keeps data, metadata and the mount table intact across ${KILLS} SIGKILLs in ${TOTAL_OPS} operations`, async () => {
    const ops = plan(rng);
    const killPoints = new Set<number>();
    while (killPoints.size < KILLS) killPoints.add(10 + rng.int(Math.max(1, TOTAL_OPS - 20)));
    const killDelays = [...killPoints].map(() => rng.int(150));
    let issued = 0;
    let kills = 0;
    const started = Date.now();
    while (issued < TOTAL_OPS) {
      let crashing: Promise<void> | undefined;
      crashed = false;
      await Promise.all(Array.from({ length: LANES }, async () => {
        while (issued < TOTAL_OPS && crashing === undefined) {
          const op = ops[issued++]!;
          if (killPoints.has(op.n)) {
            const delay = killDelays[kills] ?? 0;
            crashing = sleep(delay).then(async () => {
              crashed = true;
              await daemon.crash();
            });
          }
          debug(`op ${op.n} ${op.kind} start`);
          // A hung operation is a failure of its own, not a hung suite.
          const hung = await Promise.race([RUN[op.kind](op).then(() => false), sleep(OP_TIMEOUT_MS).then(() => true)]);
          if (hung) model.failures.push(`op ${op.n} ${op.kind}: no answer within ${OP_TIMEOUT_MS} ms ${JSON.stringify(op.r)}`);
          debug(`op ${op.n} ${op.kind} done`);
        }
      }));
      if (crashing !== undefined) {
        await crashing;
        kills++;
        await daemon.start();
        crashed = false;
      }
      debug('settle');
      await settle();
      debug('audit');
      await auditWithLog(crashing !== undefined ? `after kill ${kills} (op ${issued})` : `at the end (op ${issued})`);
    }
    console.log(`[crash-safety] ${TOTAL_OPS} ops, ${kills} kills, ${model.completed} completed runs, ${model.uncertain} answers lost to kills, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(kills).toBe(KILLS);
  }, LONG ? 4 * 3600_000 : 300_000);
});
