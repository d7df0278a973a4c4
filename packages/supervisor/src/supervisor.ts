import type { Server } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxSyscalls, PrivateMountNamespace, type Syscalls } from '@berth/syscall';
import { LayerStore, Trash } from '@berth/layers';
import { Runtime, describeCorrection, ensurePrivateStateRoot } from '@berth/runtime';
import { VolumeStore } from '@berth/volumes';
import { createApiServer, listenUnix } from './api/server.js';
import { ContainerStore } from './container-store.js';
import type { ContainerEngine, ImageService, VolumeService } from './engine.js';
import { IdleTrimmer } from './idle-trim.js';
import { Lifecycle } from './lifecycle.js';
import { NetworkService } from './networks.js';

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
const DEFAULT_IDLE_TRIM_MS = 5000;

export interface SupervisorOptions {
  root: string;
  socketPath: string;
  workers?: number;
  /** Containers each launch worker keeps built ahead (the runtime's `sandboxes`; default 2, 0: none). */
  sandboxes?: number;
  cgroupParent?: string;
  /** The layer store's driver: overlay (default) or vfs (full copies, for filesystems overlay cannot use). */
  storageDriver?: 'overlay' | 'vfs';
  /** Where start-up notices go (a corrected state-root mode); stderr by default. */
  log?: (line: string) => void;
  /** dockerd's `--insecure-registry`: registries (`host[:port]`, CIDR) tried over HTTPS without verification, then HTTP. */
  insecureRegistries?: readonly string[];
  /**
   * How long the API must be quiet before the memory malloc freed is given
   * back to the kernel (`malloc_trim`, once per burst of requests); default
   * 5000 ms, 0: never.
   */
  idleTrimMs?: number;
}

/** The parts a Supervisor runs on; `Supervisor.start` makes the real ones, tests may pass their own. */
export interface SupervisorParts {
  engine: ContainerEngine;
  images: ImageService;
  volumes: VolumeService;
  syscalls: Syscalls;
  /** Called after everything else on close (stores, namespace). */
  close?: () => Promise<void> | void;
  /** `false`: no networks (unit tests with a fake engine); default: netavark networks under the root. */
  networks?: false;
}

/** The real parts: layer store, volume store and Runtime sharing berth's own mount namespace. */
export async function openRealParts(opts: SupervisorOptions, syscalls: Syscalls = new LinuxSyscalls()): Promise<SupervisorParts> {
  // One namespace for volumes and launches; the supervisor itself never mounts on the host.
  const ns = PrivateMountNamespace.create(syscalls);
  const layers = LayerStore.open(opts.root, {
    // Imports and pulls unpack on a worker thread: the API's event loop never waits on their writes.
    syscalls, unpackInWorker: true, ...(opts.storageDriver ? { driver: opts.storageDriver } : {}),
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
  });
  const volumes = VolumeStore.open(opts.root, { syscalls, mountNamespace: ns });
  const engine = await Runtime.open({
    root: opts.root, layers, volumes, syscalls, mountNamespace: ns,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.sandboxes !== undefined ? { sandboxes: opts.sandboxes } : {}),
    ...(opts.cgroupParent !== undefined ? { cgroupParent: opts.cgroupParent } : {}),
  });
  return {
    engine, images: layers, volumes, syscalls,
    close: async () => {
      await layers.idle();
      volumes.close();
      layers.close();
      ns.close();
    },
  };
}

/**
 * The long-running supervisor: the container store, the lifecycles, the
 * Docker API on a unix socket. Containers outlive it; `start` re-adopts
 * the ones a previous supervisor left running.
 */
export class Supervisor {
  private constructor(
    readonly root: string,
    readonly socketPath: string,
    readonly store: ContainerStore,
    readonly lifecycle: Lifecycle,
    readonly server: Server,
    private readonly parts: SupervisorParts,
    private readonly trash: Trash,
    private readonly trimmer: IdleTrimmer | undefined,
    readonly networks?: NetworkService,
  ) {}

  get engine(): ContainerEngine {
    return this.parts.engine;
  }

  static async start(opts: SupervisorOptions, parts?: SupervisorParts): Promise<Supervisor> {
    // The state root 0710 and volumes/ 0701, as dockerd since CVE-2021-41091: host users reach no container or volume data.
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    for (const c of ensurePrivateStateRoot(opts.root)) log(describeCorrection(c));
    mkdirSync(join(opts.root, 'supervisor'), { recursive: true, mode: 0o711 });
    // Removed containers' directories a killed supervisor had not finished deleting.
    for (const parent of ['supervisor', 'network-files']) Trash.sweep(join(opts.root, parent));
    const trash = new Trash();
    const p = parts ?? (await openRealParts(opts));
    const store = ContainerStore.open(join(opts.root, 'supervisor.db'));
    // networks: the container side is asked of the lifecycle, made just below.
    const made: { lifecycle?: Lifecycle } = {};
    const networks = p.networks === false ? undefined : new NetworkService(opts.root, {
      resolve: (ref) => store.resolve(ref), find: (id) => store.find(id), liveProcess: (id) => made.lifecycle?.liveProcess(id),
    }, { trash });
    const lifecycle = new Lifecycle({
      root: opts.root, store, engine: p.engine, images: p.images, syscalls: p.syscalls, trash, ...(networks ? { networks } : {}),
    });
    made.lifecycle = lifecycle;
    try {
      await lifecycle.recover();
      // Volume references of containers that are gone (removed while we were down, or half-removed).
      p.volumes.reconcileReferences?.(new Set(store.list().map((c) => c.id)));
      const server = createApiServer({ lifecycle, images: p.images, volumes: p.volumes, root: opts.root, engine: p.engine, ...(networks ? { networks } : {}) });
      await listenUnix(server, opts.socketPath);
      const trimMs = opts.idleTrimMs ?? DEFAULT_IDLE_TRIM_MS;
      const trimmer = trimMs > 0 ? new IdleTrimmer(() => p.syscalls.mallocTrim(), trimMs) : undefined;
      if (trimmer) server.on('request', () => trimmer.activity()).on('upgrade', () => trimmer.activity());
      return new Supervisor(opts.root, opts.socketPath, store, lifecycle, server, p, trash, trimmer, networks);
    } catch (err) {
      lifecycle.close();
      await networks?.close();
      store.close();
      await p.engine.close();
      await p.close?.();
      throw err;
    }
  }

  /** Stop serving. Running containers keep running; the next supervisor re-adopts them. */
  async close(): Promise<void> {
    this.trimmer?.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    rmSync(this.socketPath, { force: true });
    this.lifecycle.close();
    await this.networks?.close();
    await this.trash.idle();
    this.store.close();
    await this.parts.engine.close();
    await this.parts.close?.();
  }
}

/** `berth daemon`: run until SIGINT/SIGTERM. */
export async function runDaemon(opts: SupervisorOptions & { log?: (line: string) => void }): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const sup = await Supervisor.start(opts);
  log(`berth daemon: listening on unix://${opts.socketPath} (root ${opts.root})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sup.close();
}
