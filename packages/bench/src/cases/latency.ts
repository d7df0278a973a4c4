/**
 * Case 1: launch latency of /bin/true, every runtime interleaved round-robin
 * in one run so that drift on a shared machine hits all of them alike.
 */
import { Cgroups, defaultDeviceRules } from '@berth/runtime';
import { twoVolumes, type BerthEnv } from '../berth-env.js';
import { nodeFloorArgv, type Daemon } from '../daemon.js';
import type { Spawner } from '../spawner.js';
import { SLOW_PEERS, type PeerState } from '../peers.js';
import type { LatencyRow } from '../report-types.js';
import { pairedRatio, summarize, type Summary } from '../stats.js';

export interface LatencyOptions {
  runs: number;
  warmup: number;
  /** Slow runtimes (podman, the CLI) take part in only the first this-many iterations. */
  slowRuns: number;
  log: (line: string) => void;
}

export interface LatencyResult {
  rows: LatencyRow[];
  hundredSequentialMs: number;
  setupMs: Summary | undefined;
  cleanupMs: Summary | undefined;
}

interface Contender {
  row: LatencyRow;
  /** Sample per iteration (NaN where it sat out), aligned with the others for pairing. */
  aligned: number[];
  slow: boolean;
  time: () => Promise<number>;
}

/**
 * The cost a launch pays for its own cgroup (issue 13: every container has
 * one, for its device rules): make the directories with Docker's device
 * rules and move a waiting process in. On v1 the first move waits for an
 * RCU grace period. Spawning the process (from the bench's shell, so this
 * process never forks) and removing the cgroup are not timed.
 */
function cgroupContender(spawner: Spawner): Contender {
  let cgroups: Cgroups | undefined;
  let n = 0;
  return {
    row: { name: 'container cgroup (create with device rules + place)', command: 'Cgroups.create(id, {}, defaultDeviceRules()); place(handle, pid) of a waiting process', status: 'ok', samples: [] },
    aligned: [], slow: false,
    time: async () => {
      cgroups ??= Cgroups.detect();
      const pid = await spawner.startBackground(['sleep', '1000'], 'sleep');
      const t0 = performance.now();
      const handle = cgroups.create(`bench-cgroup-${process.pid}-${n++}`, {}, defaultDeviceRules());
      try {
        cgroups.place(handle, pid);
        return performance.now() - t0;
      } finally {
        await spawner.killBackground(pid, 'sleep');
        cgroups.remove(handle);
      }
    },
  };
}

export async function runLatency(env: BerthEnv, daemon: Daemon | string, peers: PeerState[], spawner: Spawner, o: LatencyOptions): Promise<LatencyResult> {
  const setup: number[] = [];
  const cleanup: number[] = [];
  const lib: Contender = {
    row: { name: 'berth (library, warm pool)', command: `runtime.start({ image: 'busybox', Cmd: ['/bin/true'], Binds: ['bench-v1:/v1', 'bench-v2:/v2'] }) → await exited; overlay rootfs, /proc, /dev, net/pid/ipc/uts/mount namespaces; pool of ${env.workers} workers`, status: 'ok', samples: [] },
    aligned: [], slow: false,
    time: async () => {
      const t = await env.launch(twoVolumes());
      setup.push(t.setupMs);
      cleanup.push(t.cleanupMs);
      return t.ms;
    },
  };
  const contenders: Contender[] = [lib, cgroupContender(spawner)];
  if (typeof daemon === 'string') {
    contenders.push({ row: { name: 'berth run --rm (CLI + supervisor)', command: 'berth run --rm busybox /bin/true', status: 'unavailable', reason: daemon, samples: [] }, aligned: [], slow: true, time: () => Promise.resolve(Number.NaN) });
  } else {
    contenders.push({ row: { name: 'berth run --rm (CLI + supervisor)', command: daemon.runArgv().join(' '), status: 'ok', samples: [] }, aligned: [], slow: true, time: () => daemon.timeRun() });
  }
  // Bridge networking (netavark setup and teardown, ~200 ms each) in rows of its own, berth beside Podman.
  if (typeof daemon !== 'string') {
    const flags = ['--network', 'bridge'];
    contenders.push({ row: { name: 'berth run --rm --network bridge (CLI + supervisor, netavark)', command: daemon.runArgv(flags).join(' '), status: 'ok', samples: [] }, aligned: [], slow: true, time: () => daemon.timeRun(flags) });
  }
  const podmanBridge = peers.find((p) => p.name === 'podman')?.peer?.bridge;
  if (podmanBridge) {
    contenders.push({ row: { name: 'podman run --rm --network bridge (netavark)', command: podmanBridge.argv.join(' '), status: 'ok', samples: [] }, aligned: [], slow: true, time: () => podmanBridge.time() });
  }
  for (const p of peers) {
    const row: LatencyRow = { name: p.name, command: p.peer ? p.peer.argv(0, '<id>').join(' ') : '', status: p.status, samples: [] };
    if (p.reason) row.reason = p.reason;
    if (p.peer?.note) row.command += `  (${p.peer.note})`;
    const peer = p.peer;
    contenders.push({ row, aligned: [], slow: SLOW_PEERS.has(p.name), time: () => (peer ? peer.time(0) : Promise.resolve(Number.NaN)) });
  }
  // Issue 16's CLI rows: the same run through the Go docker CLI on berth's socket (the supervisor without a
  // Node client), and `node -e 0` (Node's own start-up and exit, the floor of the berth CLI row).
  if (typeof daemon === 'string') {
    contenders.push({ row: { name: 'docker run --rm (docker CLI on berth)', command: 'docker --host unix://S run --rm --network none busybox /bin/true', status: 'unavailable', reason: daemon, samples: [] }, aligned: [], slow: true, time: () => Promise.resolve(Number.NaN) });
  } else {
    let reason: string | undefined;
    try {
      await daemon.timeDockerRun();
    } catch (error) {
      reason = (error as Error).message;
    }
    contenders.push({
      row: { name: 'docker run --rm (docker CLI on berth)', command: daemon.dockerRunArgv().join(' '), status: reason === undefined ? 'ok' : 'unavailable', ...(reason === undefined ? {} : { reason }), samples: [] },
      aligned: [], slow: true, time: () => daemon.timeDockerRun(),
    });
  }
  contenders.push({ row: { name: 'node -e 0 (Node start-up; floor of the CLI row)', command: nodeFloorArgv().join(' '), status: 'ok', samples: [] }, aligned: [], slow: true, time: () => spawner.run(nodeFloorArgv(), 'node -e 0') });
  contenders.push({ row: { name: 'fork+exec /bin/true (no container; floor)', command: '/bin/true from the bench\'s shell', status: 'ok', samples: [] }, aligned: [], slow: false, time: () => spawner.run(['/bin/true'], '/bin/true') });
  const active = contenders.filter((c) => c.row.status === 'ok');

  for (let i = 0; i < o.warmup; i++) {
    for (const c of active) if (!c.slow || i < 3) await c.time();
  }
  setup.length = 0;
  cleanup.length = 0;
  for (let i = 0; i < o.runs; i++) {
    for (const c of contenders) {
      const takesPart = c.row.status === 'ok' && (!c.slow || i < o.slowRuns);
      const ms = takesPart ? await c.time() : Number.NaN;
      c.aligned.push(ms);
      if (takesPart) c.row.samples.push(ms);
    }
    if ((i + 1) % 50 === 0) o.log(`  latency: ${i + 1}/${o.runs} iterations`);
  }

  const crun = contenders.find((c) => c.row.name === 'crun' && c.row.status === 'ok');
  for (const c of contenders) {
    if (c.row.samples.length === 0) continue;
    c.row.summary = summarize(c.row.samples);
    if (crun) {
      const a: number[] = [];
      const b: number[] = [];
      c.aligned.forEach((x, i) => {
        const y = crun.aligned[i];
        if (!Number.isNaN(x) && y !== undefined && !Number.isNaN(y)) { a.push(x); b.push(y); }
      });
      if (a.length > 0) c.row.ratioToCrun = pairedRatio(a, b);
    }
  }

  // 100 sequential launches, start to exited and cleanup, back to back.
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) await env.launch(twoVolumes());
  // The last launches' directories are deleted in the background: on the clock too.
  await env.layers.idle();
  const hundredSequentialMs = performance.now() - t0;

  return {
    rows: contenders.map((c) => c.row),
    hundredSequentialMs,
    setupMs: setup.length ? summarize(setup) : undefined,
    cleanupMs: cleanup.length ? summarize(cleanup) : undefined,
  };
}
