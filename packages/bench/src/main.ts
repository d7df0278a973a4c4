/** `npm run bench`: every case, in one process, then the markdown, JSON and SVG. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE } from './args.js';
import { BerthEnv, writeBusyboxImage } from './berth-env.js';
import { removeIdleNetavarkChains } from '@berth/networks';
import { runLatency } from './cases/latency.js';
import { runMemory } from './cases/memory.js';
import { MOUNT_COUNTS, runMountGrowth } from './cases/mounts.js';
import { runImport, runVolumeScaling, layerTarsOf, writeSyntheticImage } from './cases/stores.js';
import { runPull } from './cases/pull.js';
import { runThroughput } from './cases/throughput.js';
import { runSeccompCost } from './cases/seccomp.js';
import { Daemon } from './daemon.js';
import { Spawner } from './spawner.js';
import { BenchError, MountLeakError } from './errors.js';
import { machineFacts } from './machine.js';
import { renderMarkdown } from './markdown.js';
import { installMissingPeers, openPeers, type PeerContext, type PeerState } from './peers.js';
import type { BenchReport } from './report-types.js';
import { renderSvg } from './svg.js';
import { checkTargets } from './targets.js';
import { spawnSync } from 'node:child_process';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const POOL_SIZE = 4;
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** RuntimeOptions.sandboxes of the library rows: the runtime's default. */
const SANDBOXES_PER_WORKER = 2;

function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** The rootfs the peers share: the busybox layer unpacked with tar, plus /m0../m99 for the bind cases. */
function peerRootfs(work: string, archive: string): string {
  const [layer] = layerTarsOf(archive, join(work, 'busybox-archive'));
  const rootfs = join(work, 'rootfs');
  mkdirSync(rootfs);
  const r = spawnSync('tar', ['-xf', layer!, '-C', rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError('Tar', `failed to unpack the busybox layer for the peers: ${r.stderr.trim()}`);
  for (let i = 0; i < Math.max(...MOUNT_COUNTS); i++) mkdirSync(join(rootfs, `m${i}`), { recursive: true });
  return rootfs;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    process.stderr.write(`berth-bench: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('berth-bench: the benchmarks make namespaces and mounts: run as root\n');
    return 2;
  }
  const started = new Date();
  const outDir = args.out ? resolve(args.out) : join(REPO_ROOT, 'bench-results');
  const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
  // The bridge rows (berth's and Podman's, both on netavark) turn IP forwarding on; it is put back at the end.
  const ipForwardBefore = readFileSync(IP_FORWARD, 'utf8');
  const notes: string[] = [];
  if (args.withPeers) {
    const installed = installMissingPeers(log);
    if (installed.length) notes.push(`--with-peers installed: ${installed.join(', ')}`);
  }
  const machine = machineFacts();
  log(`machine: ${machine.kernel}, ${machine.cores} cores, load ${machine.loadAverageStart.map((x) => x.toFixed(2)).join(' ')}; peers ${JSON.stringify(machine.peers)}`);
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  let peers: PeerState[] = [];
  let env: BerthEnv | undefined;
  let daemon: Daemon | undefined;
  let spawner: Spawner | undefined;
  let report: BenchReport;
  try {
    const archive = join(work, 'busybox.tar');
    await writeBusyboxImage(archive);
    // Started before anything big loads: every timed run forks this shell, never the bench process.
    spawner = Spawner.start();
    const ctx: PeerContext = { workDir: work, rootfs: peerRootfs(work, archive), bindSource: join(work, 'bind-src'), archive, spawner };
    mkdirSync(ctx.bindSource);
    log('checking each peer once');
    peers = await openPeers(ctx, log);
    env = await BerthEnv.open(work, archive, POOL_SIZE, { sandboxes: SANDBOXES_PER_WORKER });
    let daemonOrReason: Daemon | string;
    try {
      daemon = await Daemon.start(work, archive, POOL_SIZE, spawner);
      await daemon.timeRun();
      daemonOrReason = daemon;
    } catch (error) {
      daemonOrReason = (error as Error).message;
      log(`berth CLI row unavailable: ${daemonOrReason}`);
    }

    log(`case 1: launch latency, ${args.runs} interleaved iterations`);
    const latency = await runLatency(env, daemonOrReason, peers, spawner, {
      runs: args.runs, warmup: args.quick ? 5 : 20, slowRuns: args.quick ? 15 : args.runs, log,
    });
    // Sequential launches leave every worker's pool full (after case 3's saturation it may be empty).
    const pool = env.parkedSandboxes();
    log('case 2: mount growth');
    const mountGrowth = await runMountGrowth(env, ctx.bindSource, peers, { samples: args.quick ? 5 : 20, slowSamples: args.quick ? 2 : 5, log });
    log('case 3: throughput');
    const throughput = await runThroughput(env, { launches: args.quick ? 100 : 400, log });
    log('case 4: volume store scaling');
    const volumes = await runVolumeScaling(work);
    log('case 5: image import');
    const synthetic = join(work, 'synthetic.tar');
    await writeSyntheticImage(synthetic, 3, 16);
    const imports = [
      await runImport(work, 'busybox', archive, args.quick ? 4 : 15),
      await runImport(work, 'synthetic (3 layers, 48 MB of files)', synthetic, args.quick ? 2 : 6),
    ];
    log('case 7: pull from a local registry');
    const pull = await runPull(work, { repeats: args.quick ? 1 : 3, log });
    log('case 6: memory');
    const memory = daemon ? await runMemory(work, archive, daemon, spawner, { loadRuns: args.quick ? 16 : 64 }) : [];
    if (!daemon) notes.push(`memory case skipped: the supervisor did not start (${String(daemonOrReason)})`);
    log('case 7: seccomp');
    const seccomp = await runSeccompCost(work);
    notes.push(
      'Latency is wall time: peers, the CLIs and the floors from fork to exit, measured by the long-lived shell that starts them (this process does not fork during the latency, mount-growth and throughput cases: a fork of it left the next library launch ~6 ms of copy-on-write faults); the library row in this process, from the runtime.start call to its exited promise resolving (cleanup of the container\'s layer directory is timed apart).',
      'Peers share one rootfs (the busybox layer unpacked with tar), bound read-only; berth gives each container an overlay with its own writable layer.',
      `Ratios to crun are computed within this run: every iteration runs each runtime once, round-robin; the table shows p50(row)/p50(crun) over the iterations both took part in, and the median of the per-iteration ratios.`,
    );
    report = {
      startedAt: started.toISOString(), quick: args.quick, runs: args.runs, warmup: args.quick ? 5 : 20,
      durationS: 0, machine,
      latencyLib: { hundredSequentialMs: latency.hundredSequentialMs, setupMs: latency.setupMs, cleanupMs: latency.cleanupMs },
      latency: latency.rows, mountCounts: MOUNT_COUNTS, mountGrowth,
      throughput: { poolSize: POOL_SIZE, rows: throughput }, volumes, imports, pull, memory, seccomp,
      sandboxes: {
        workers: POOL_SIZE, perWorker: SANDBOXES_PER_WORKER, parked: pool.parked, rssKbPerSandbox: pool.parked ? pool.rssKb / pool.parked : 0,
        built: 0, used: 0, discarded: 0, buildMsPerSandbox: 0, launches: env.launches,
      },
      targets: [], hostMountsUnchanged: false, notes,
    };
  } finally {
    for (const p of peers) p.peer?.close();
    await env?.close();
    await daemon?.stop();
    spawner?.close();
    // netavark's shared chains (made by berth's or Podman's bridge rows) go once nothing uses them.
    removeIdleNetavarkChains();
    if (readFileSync(IP_FORWARD, 'utf8') !== ipForwardBefore) writeFileSync(IP_FORWARD, ipForwardBefore);
    rmSync(work, { recursive: true, force: true });
  }
  // What the pools did over the run is known once they are drained (env.close).
  const stats = env?.runtime.sandboxStats;
  if (stats && report.sandboxes) {
    Object.assign(report.sandboxes, { built: stats.built, used: stats.used, discarded: stats.discarded, buildMsPerSandbox: stats.built ? stats.buildMs / stats.built : 0 });
  }
  const mountsAfter = readFileSync('/proc/self/mountinfo', 'utf8');
  report.hostMountsUnchanged = mountsAfter === mountsBefore;
  report.machine.loadAverageEnd = loadavg();
  report.durationS = (Date.now() - started.getTime()) / 1000;
  report.targets = checkTargets(report);

  mkdirSync(outDir, { recursive: true });
  const base = stamp(started);
  const svg = renderSvg(report);
  writeFileSync(join(outDir, `${base}.svg`), svg);
  writeFileSync(join(outDir, `${base}.md`), renderMarkdown(report, `${base}.svg`));
  writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  copyFileSync(join(outDir, `${base}.svg`), join(outDir, 'latest.svg'));
  writeFileSync(join(outDir, 'latest.md'), renderMarkdown(report, 'latest.svg'));
  copyFileSync(join(outDir, `${base}.json`), join(outDir, 'latest.json'));
  process.stdout.write(`${renderMarkdown(report, `${base}.svg`)}\n`);
  log(`wrote ${join(outDir, base)}.{md,json,svg} and latest.* in ${report.durationS.toFixed(0)} s`);
  if (!report.hostMountsUnchanged) {
    const err = new MountLeakError(diffLines(mountsBefore, mountsAfter));
    process.stderr.write(`berth-bench: ${err.message}\n`);
    return 1;
  }
  return 0;
}

function diffLines(before: string, after: string): string {
  const b = new Set(before.split('\n'));
  const a = new Set(after.split('\n'));
  const added = [...a].filter((l) => !b.has(l));
  const removed = [...b].filter((l) => !a.has(l));
  return `added ${JSON.stringify(added)}, removed ${JSON.stringify(removed)}`;
}
