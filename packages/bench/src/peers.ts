/**
 * The peers berth is compared with, each run on the same rootfs with the
 * same command. Every peer is timed the same way as berth's CLI row: the
 * wall time of one run from the bench's long-lived shell (`Spawner`), from
 * fork to exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxSyscalls, MNT_DETACH, PrivateMountNamespace } from '@berth/syscall';
import { LaunchFailedError } from './errors.js';
import { bindMounts, ociConfig } from './oci-config.js';
import { Spawner } from './spawner.js';

export type PeerName = 'crun' | 'runc' | 'bubblewrap' | 'podman' | 'dockerd';
export const PEER_NAMES: readonly PeerName[] = ['crun', 'runc', 'bubblewrap', 'podman', 'dockerd'];

const BINARIES: Record<PeerName, string> = { crun: 'crun', runc: 'runc', bubblewrap: 'bwrap', podman: 'podman', dockerd: 'dockerd' };
/** Debian package names (`--with-peers`). */
export const APT_PACKAGES: Record<PeerName, string> = { crun: 'crun', runc: 'runc', bubblewrap: 'bubblewrap', podman: 'podman', dockerd: 'docker.io' };
/** Peers that take part in only the first iterations of the latency case and in fewer mount samples (hundreds of ms a run). */
export const SLOW_PEERS: ReadonlySet<PeerName> = new Set(['podman', 'dockerd']);

export function which(binary: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

export function peerVersion(name: PeerName): string {
  const path = which(BINARIES[name]);
  if (!path) return 'not installed';
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr).split('\n')[0]?.trim() || 'unknown';
}

/** Installs the missing peers from Debian (apt-get update once first). Returns what it did. */
export function installMissingPeers(log: (line: string) => void): string[] {
  const missing = PEER_NAMES.filter((p) => !which(BINARIES[p]));
  if (missing.length === 0) return [];
  const pkgs = missing.map((p) => APT_PACKAGES[p]);
  log(`installing missing peers: apt-get install ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  if (update.status !== 0) log('apt-get update failed; trying the install anyway');
  // docker.io's maintainer scripts start a system dockerd (default bridge, iptables rules) where no
  // systemd runs; the bench starts its own in a temporary root instead, so that start is refused.
  const policy = '/usr/sbin/policy-rc.d';
  const guard = pkgs.includes('docker.io') && !existsSync(policy);
  if (guard) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  let install;
  try {
    install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  } finally {
    if (guard) unlinkSync(policy);
  }
  if (install.status !== 0) log(`apt-get install failed (exit ${install.status}); the missing peers' rows will say "not installed"`);
  return pkgs;
}

export interface PeerContext {
  /** Temp dir the peers may write to (bundles, state, podman storage). */
  workDir: string;
  /** The busybox layer extracted with tar (the same files as berth's image). */
  rootfs: string;
  /** Host directory bound at /m0../mN. */
  bindSource: string;
  /** The docker-save archive (for `podman load`). */
  archive: string;
  /** The shell every timed run starts from. */
  spawner: Spawner;
}

/** One peer, ready to time. */
export interface Peer {
  name: PeerName;
  /** The argv it runs for `mounts` extra binds (for the report). */
  argv(mounts: number, id: string): string[];
  /** Runs once; resolves with its wall milliseconds, rejects if it did not exit 0. */
  time(mounts: number): Promise<number>;
  /** What the command runs inside of, if anything beyond the argv (for the report). */
  note?: string;
  /** A launch on a bridge network (netavark), for peers that have one: its argv and one timed run. */
  bridge?: { argv: string[]; time(): Promise<number> };
  close(): void;
}

let counter = 0;
function nextId(peer: string): string {
  counter += 1;
  return `berth-bench-${peer}-${process.pid}-${counter}`;
}

/** crun/runc bundles: one per mount count, all pointing at the shared rootfs. */
function bundleFor(ctx: PeerContext, peer: string, mounts: number): string {
  const dir = join(ctx.workDir, `bundle-${peer}-${mounts}`);
  mkdirSync(dir, { recursive: true });
  const config = ociConfig({ args: ['/bin/true'], extraMounts: bindMounts(ctx.bindSource, mounts) });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, root: { path: ctx.rootfs, readonly: true } }, null, 2));
  return dir;
}

function ociPeer(ctx: PeerContext, name: 'crun' | 'runc'): Peer {
  const state = join(ctx.workDir, `state-${name}`);
  mkdirSync(state, { recursive: true });
  const bundles = new Map<number, string>();
  const bundle = (mounts: number) => {
    let b = bundles.get(mounts);
    if (!b) bundles.set(mounts, (b = bundleFor(ctx, name, mounts)));
    return b;
  };
  // Looked up once: `which` forks this process.
  const binary = which(name)!;
  const argv = (mounts: number, id: string) => name === 'crun'
    ? [binary, '--root', state, '--cgroup-manager=disabled', 'run', '--bundle', bundle(mounts), id]
    : [binary, '--root', state, 'run', '--bundle', bundle(mounts), id];
  if (name === 'runc') {
    return { name, argv, time: (m) => ctx.spawner.run(argv(m, nextId(name)), name, { cwd: ctx.workDir }), close: () => {} };
  }
  // crun with cgroups disabled still refuses this hybrid layout while the
  // empty v2 hierarchy is mounted at /sys/fs/cgroup/unified. Rather than an
  // `unshare -m sh -c 'umount ...; exec crun'` wrapper per run (which would
  // add two execs to crun's time), the bench keeps one private mount
  // namespace (a slave of the host's, so the umount stays in it) and starts
  // crun's own shell from the main thread while it is inside that namespace.
  const sys = new LinuxSyscalls();
  const ns = PrivateMountNamespace.create(sys);
  const cwd = process.cwd();
  const inNs = <T>(fn: () => T): T => {
    try {
      return ns.run(fn);
    } finally {
      process.chdir(cwd); // setns resets the thread's cwd to /
    }
  };
  const spawner = inNs(() => {
    try { sys.umount2('/sys/fs/cgroup/unified', MNT_DETACH); } catch { /* not mounted here: nothing to hide */ }
    return Spawner.start();
  });
  return {
    name,
    argv,
    note: 'run from a shell started inside a private mount namespace (slave of the host\'s) where /sys/fs/cgroup/unified is unmounted',
    time: (m) => spawner.run(argv(m, nextId(name)), name, { cwd: ctx.workDir }),
    close: () => {
      spawner.close();
      ns.close();
    },
  };
}

function bwrapPeer(ctx: PeerContext): Peer {
  const bwrap = which('bwrap')!;
  const argv = (mounts: number) => [
    bwrap, '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net',
    '--ro-bind', ctx.rootfs, '/', '--proc', '/proc', '--dev', '/dev',
    ...Array.from({ length: mounts }, (_, i) => ['--bind', ctx.bindSource, `/m${i}`]).flat(),
    '/bin/true',
  ];
  return { name: 'bubblewrap', argv, time: (m) => ctx.spawner.run(argv(m), 'bubblewrap', { cwd: ctx.workDir }), close: () => {} };
}

function podmanPeer(ctx: PeerContext): Peer {
  const global = [
    which('podman')!, '--root', join(ctx.workDir, 'podman-root'), '--runroot', join(ctx.workDir, 'podman-runroot'),
    '--cgroup-manager', 'cgroupfs', '--runtime', 'runc', '--events-backend', 'file',
  ];
  const load = spawnSync(global[0]!, [...global.slice(1), 'load', '-i', ctx.archive], { encoding: 'utf8' });
  if (load.status !== 0) throw new LaunchFailedError('podman load', load.stderr.trim());
  const argv = (mounts: number) => [
    ...global, 'run', '--rm', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none',
    ...Array.from({ length: mounts }, (_, i) => ['-v', `${ctx.bindSource}:/m${i}`]).flat(),
    'localhost/busybox:latest', '/bin/true',
  ];
  // The same launch on podman's default bridge network: netavark 1.4 and aardvark-dns, as berth's bridge.
  // Podman keeps its namespaces as bind mounts under /run/netns (a mount berth never makes): the bench
  // undoes the /run/netns mount podman leaves when it was not there before.
  const bridgeArgv = argv(0).map((a) => (a === 'none' ? 'bridge' : a));
  const netnsMounted = (): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/run/netns');
  const netnsBefore = { mounted: netnsMounted(), exists: existsSync('/run/netns') };
  return {
    name: 'podman',
    argv,
    bridge: { argv: bridgeArgv, time: () => ctx.spawner.run(bridgeArgv, 'podman', { cwd: ctx.workDir }) },
    note: 'storage under the bench\'s temp dir (--root/--runroot); image loaded with podman load -i from the same archive',
    time: (m) => ctx.spawner.run(argv(m), 'podman', { cwd: ctx.workDir }),
    close: () => {
      // Only this temp storage is touched; the directory goes with the work dir.
      spawnSync(global[0]!, [...global.slice(1), 'rmi', '--all', '--force'], { stdio: 'ignore' });
      if (!netnsBefore.mounted && netnsMounted()) spawnSync('umount', ['/run/netns'], { stdio: 'ignore' });
      if (!netnsBefore.exists) {
        try { rmdirSync('/run/netns'); } catch { /* not empty (someone else's) or absent */ }
      }
    },
  };
}

/** Sleeps the calling thread (dockerd's start and stop wait synchronously). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What a dockerd leaves on a host that did not have it before: removed at close only if the bench made it. */
function dockerdTraces(): string[] {
  const cgroupDirs = existsSync('/sys/fs/cgroup')
    ? readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/docker`)
    : [];
  return ['/etc/docker/key.json', '/run/docker/plugins', '/run/docker', ...cgroupDirs].filter((p) => existsSync(p));
}

/**
 * The real Docker (Debian's docker.io: dockerd 20.10 with its own containerd
 * and runc), started in a temporary data and exec root on a socket of its
 * own, timed through the docker CLI as users run it. It is started without a
 * default bridge, iptables rules or IP forwarding: `--network none` runs never
 * use them, and the host keeps its interfaces, rules and sysctls. Stopped by
 * its pid at close; what it made outside its roots is removed when it was not
 * there before.
 */
function dockerdPeer(ctx: PeerContext): Peer {
  // Short: containerd's socket path under the exec root must fit in a sockaddr_un.
  const dir = mkdtempSync('/tmp/berth-bench-dockerd-');
  const socket = join(dir, 'docker.sock');
  const host = ['--host', `unix://${socket}`];
  const tracesBefore = new Set(dockerdTraces());
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const daemon = spawn(which('dockerd')!, [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--host', `unix://${socket}`, '--pidfile', join(dir, 'dockerd.pid'),
    '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--log-level', 'error',
  ], { stdio: ['ignore', log, log] });
  closeSync(log);
  const docker = which('docker') ?? 'docker';
  const stop = (): void => {
    if (daemon.pid !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      for (let i = 0; i < 150 && existsSync(`/proc/${daemon.pid}`) && !readFileSync(`/proc/${daemon.pid}/stat`, 'latin1').includes(') Z '); i++) sleepSync(100);
      daemon.kill('SIGKILL');
    }
    // Its overlay mounts go with it; anything still mounted under its root is left (and so is the root) rather than deleted through.
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(`${dir}/`));
    if (!mounted) rmSync(dir, { recursive: true, force: true });
    for (const trace of dockerdTraces()) {
      if (tracesBefore.has(trace)) continue;
      try { if (trace.endsWith('key.json')) rmSync(trace); else rmdirSync(trace); } catch { /* not empty: not only ours */ }
    }
  };
  try {
    let up = false;
    for (let i = 0; i < 150 && !up && daemon.exitCode === null; i++) {
      up = spawnSync(docker, [...host, 'version'], { stdio: 'ignore' }).status === 0;
      if (!up) sleepSync(100);
    }
    if (!up) throw new LaunchFailedError('dockerd', `no answer on ${socket}: ${readFileSync(join(dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-2).join(' / ')}`);
    const load = spawnSync(docker, [...host, 'load', '-i', ctx.archive], { encoding: 'utf8' });
    if (load.status !== 0) throw new LaunchFailedError('docker load', load.stderr.trim());
  } catch (error) {
    stop();
    throw error;
  }
  const argv = (mounts: number) => [
    docker, ...host, 'run', '--rm', '--network', 'none',
    ...Array.from({ length: mounts }, (_, i) => ['-v', `${ctx.bindSource}:/m${i}`]).flat(),
    'busybox:latest', '/bin/true',
  ];
  return {
    name: 'dockerd',
    argv,
    note: 'the docker CLI against dockerd 20.10 (its own containerd, runc, overlay2) in a temporary root, started with --bridge none --iptables=false --ip-forward=false; image loaded with docker load from the same archive',
    time: (m) => ctx.spawner.run(argv(m), 'dockerd', { cwd: ctx.workDir }),
    close: stop,
  };
}

export type PeerState = { name: PeerName; peer?: Peer; status: 'ok' | 'not installed' | 'broken'; reason?: string };

/** Opens each peer and runs it once; a peer that fails is reported with its reason and skipped. */
export async function openPeers(ctx: PeerContext, log: (line: string) => void): Promise<PeerState[]> {
  const states: PeerState[] = [];
  for (const name of PEER_NAMES) states.push(await openPeer(ctx, name, log));
  return states;
}

async function openPeer(ctx: PeerContext, name: PeerName, log: (line: string) => void): Promise<PeerState> {
  if (!which(BINARIES[name])) return { name, status: 'not installed' };
  let peer: Peer | undefined;
  try {
    peer = name === 'crun' || name === 'runc' ? ociPeer(ctx, name) : name === 'bubblewrap' ? bwrapPeer(ctx) : name === 'podman' ? podmanPeer(ctx) : dockerdPeer(ctx);
    await peer.time(0);
    await peer.time(1);
    return { name, peer, status: 'ok' };
  } catch (error) {
    peer?.close();
    const reason = (error as Error).message;
    log(`${name}: broken, skipped: ${reason}`);
    return { name, status: 'broken', reason };
  }
}
