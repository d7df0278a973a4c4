/** A berth root in a temp dir with the busybox image, for the library rows. */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LinuxSyscalls, PrivateMountNamespace } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody } from '@berth/runtime';
import { LaunchFailedError } from './errors.js';

/** The most bind mounts a case uses: /m0../m99. */
export const MAX_BINDS = 100;

/**
 * tools/busybox-image.mjs, resolved from dist/ or src/. The image carries
 * empty /m0../m99 mount points so that berth, like the peers (whose rootfs is
 * this image unpacked), binds onto existing directories: the mount-growth
 * case then compares mounting, not directory creation in an overlay.
 */
export async function writeBusyboxImage(path: string): Promise<{ id: string; size: number }> {
  const mod = (await import(new URL('../../../tools/busybox-image.mjs', import.meta.url).href)) as {
    writeBusyboxImage(p: string, options: { dirs: string[] }): Promise<{ id: string; size: number }>;
  };
  return mod.writeBusyboxImage(path, { dirs: Array.from({ length: MAX_BINDS }, (_, i) => `m${i}`) });
}

/** The `HostConfig` of a create body, as a client sends it. */
export type HostConfigFields = Record<string, unknown>;

export interface LaunchTiming {
  /** `runtime.create` + `runtime.start` calls to `exited` resolving (what `docker run` does). */
  ms: number;
  /** Worker-side namespace + mount sequence (StartedContainer.setupMs). */
  setupMs: number;
  /** `runtime.cleanup` afterwards (container layer directories removed). */
  cleanupMs: number;
}

export class BerthEnv {
  private readonly devNull: number;

  private constructor(
    readonly root: string,
    readonly syscalls: LinuxSyscalls,
    readonly mountNamespace: PrivateMountNamespace,
    readonly layers: LayerStore,
    readonly volumes: VolumeStore,
    readonly runtime: Runtime,
    readonly workers: number,
  ) {
    this.devNull = openSync('/dev/null', 'w');
  }

  /** Opens a root under `dir` and imports `archive` into it as busybox. */
  static async open(dir: string, archive: string, workers: number, options: { sandboxes?: number } = {}): Promise<BerthEnv> {
    const root = join(dir, `berth-root-${workers}w${options.sandboxes === undefined ? '' : `-${options.sandboxes}s`}`);
    mkdirSync(root, { recursive: true });
    const syscalls = new LinuxSyscalls();
    const mountNamespace = PrivateMountNamespace.create(syscalls);
    const layers = LayerStore.open(root, { syscalls });
    const volumes = VolumeStore.open(root, { syscalls, mountNamespace });
    if (!layers.findImage('busybox')) await layers.importImage(archive);
    const runtime = await Runtime.open({ root, layers, volumes, syscalls, mountNamespace, workers, ...options });
    return new BerthEnv(root, syscalls, mountNamespace, layers, volumes, runtime, workers);
  }

  /** Starts `/bin/true` and waits for it; cleanup is timed apart. */
  async launch(hostConfig: HostConfigFields): Promise<LaunchTiming> {
    const id = randomBytes(32).toString('hex');
    const statusPath = join(this.root, `${id}.status`);
    const t0 = performance.now();
    const spec = this.runtime.create(parseCreateBody({ Image: 'busybox', Cmd: ['/bin/true'], HostConfig: hostConfig }), { id });
    const started = await this.runtime.start({ id, spec, stdio: { stdout: this.devNull, stderr: this.devNull }, statusPath });
    this.launches++;
    if (started.sandboxed) this.sandboxed++;
    const status = await started.exited;
    const ms = performance.now() - t0;
    const t1 = performance.now();
    // Directory deletion continues in the background, overlapping the next
    // launch (as it would in a busy supervisor); close() waits for it.
    void this.runtime.cleanup(id, { removeAnonymousVolumes: true });
    const cleanupMs = performance.now() - t1;
    rmSync(statusPath, { force: true });
    if (status.exitCode !== 0) {
      throw new LaunchFailedError('berth /bin/true', `exit ${status.exitCode}${status.error ? `: ${status.error}` : ''}`);
    }
    return { ms, setupMs: started.setupMs, cleanupMs };
  }

  /** The parked sandboxes of this process (`berth-sandbox` shims, children of it) and their stubs' resident memory. */
  parkedSandboxes(): { parked: number; rssKb: number } {
    const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'latin1'))?.[1] ?? 0);
        return { pid: Number(p), ppid, rss, parked: readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('berth-sandbox\0') };
      } catch {
        return undefined;
      }
    }).filter((p) => p !== undefined);
    const shims = procs.filter((p) => p.parked && p.ppid === process.pid);
    const ids = new Set(shims.map((s) => s.pid));
    const rssKb = procs.filter((p) => ids.has(p.pid) || ids.has(p.ppid)).reduce((sum, p) => sum + p.rss, 0);
    return { parked: shims.length, rssKb };
  }

  /** Launches of this env (for the share a sandbox served). */
  launches = 0;
  sandboxed = 0;

  async close(): Promise<void> {
    await this.runtime.close();
    await this.layers.idle();
    closeSync(this.devNull);
    this.layers.close();
    this.volumes.close();
    this.mountNamespace.close();
  }
}

/** The launch of case 1(a): /proc, /dev and two named volumes at /v1 and /v2 (overlay rootfs is always there). */
export function twoVolumes(): HostConfigFields {
  return { Binds: ['bench-v1:/v1', 'bench-v2:/v2'] };
}

/** `count` binds of `source` at /m0../m{count-1}. */
export function binds(source: string, count: number): HostConfigFields {
  return { Binds: Array.from({ length: count }, (_, i) => `${source}:/m${i}`) };
}
