/**
 * A `ContainerEngine` for unit tests: it runs the container's command as a
 * plain host process (no namespaces, no root) with the stdio fds the
 * supervisor hands it, and writes the status file on exit as the init does.
 * Like PID 1 of a pid namespace, the command takes the processes it started
 * with it: `exited` resolves once its whole process group is gone.
 * Everything the supervisor itself does (output files, logs, waits, signals,
 * re-adoption) is real.
 */
import { spawn } from 'node:child_process';
import { NoSuchImageError } from '@berth/layers';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolveContainer } from '@berth/runtime';
import type {
  ContainerEngine, ContainerSpec, CreateOptions, CreateRequest, ExecRequest, ExitStatus, ImageService, ImageView, MountPoint, MountSpec,
  StartedContainer, StartedExec, StartRequest,
} from '../../src/engine.js';
import { processStartTime, readProcStat } from '@berth/syscall';

export class FakeEngine implements ContainerEngine {
  readonly started: StartRequest[] = [];
  readonly execs: ExecRequest[] = [];
  readonly cleanups: { id: string; removeAnonymousVolumes: boolean; anonymousVolumes?: readonly string[] }[] = [];
  readonly pids = new Set<number>();
  failStart: Error | undefined;

  /** The real resolution (pure); anonymous volumes get made-up names instead of being created. */
  create(req: CreateRequest, options: CreateOptions): ContainerSpec {
    if (!options.image) throw new Error('FakeEngine.create needs the image');
    const spec = resolveContainer(req, { id: options.id, image: options.image, ...(options.volumesFrom ? { volumesFrom: options.volumesFrom } : {}) });
    spec.mounts.forEach((m, i) => {
      if (m.type === 'volume' && m.source === '') m.source = `${options.id.slice(0, 8)}anon${i}`;
    });
    return spec;
  }

  mountPoints(mounts: readonly MountSpec[]): MountPoint[] {
    return mounts.map((m) => ({
      Type: m.type, ...(m.type === 'volume' ? { Name: m.source } : {}), Source: m.source, Destination: m.destination,
      Mode: m.mode ?? '', RW: !m.readOnly, Propagation: m.type === 'bind' ? m.propagation : '',
    }));
  }

  async start(req: StartRequest): Promise<StartedContainer> {
    if (this.failStart) throw this.failStart;
    this.started.push(req);
    const { config } = req.spec;
    const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    const { pid, startTime, exited } = await this.spawnCommand(argv, req.stdio, config.Env, req.statusPath);
    // No shim here: the command stands in for it.
    return { id: req.id, pid, startTime, shim: { pid, startTime }, setupMs: 0, sandboxed: false, exited };
  }

  /** An exec: the command as one more host process, with the container's env and the exec's. */
  async exec(req: ExecRequest): Promise<StartedExec> {
    this.execs.push(req);
    const started = await this.spawnCommand(req.exec.Cmd, req.stdio, [...req.config.Env, ...(req.exec.Env ?? [])], req.statusPath);
    return { ...started, shim: { pid: started.pid, startTime: started.startTime } };
  }

  private async spawnCommand(argv: readonly string[], stdio: StartRequest['stdio'], env: readonly string[], statusPath: string):
    Promise<{ pid: number; startTime: number; exited: Promise<ExitStatus> }> {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [stdio.stdin ?? 'ignore', stdio.stdout, stdio.stderr],
      detached: true, // its own process group, killed as a whole on exit (the pid namespace's teardown)
      env: Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')])),
    });
    // Listen for the exit at once: a command like `true` may be gone before its start time is read.
    const exitInfo = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('exit', (code, signal) => resolve([code, signal]));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    this.pids.add(pid);
    // A process that already exited gets a start time no live process can have.
    const startTime = processStartTime(pid) ?? -1;
    const exited = exitInfo.then(async ([code, signal]) => {
      await killGroup(pid);
      this.pids.delete(pid);
      const status: ExitStatus = signal
        ? { exitCode: 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 0), signal, oomKilled: false }
        : { exitCode: code ?? 0, oomKilled: false };
      writeFileSync(statusPath, JSON.stringify(status));
      return status;
    });
    return { pid, startTime, exited };
  }

  readStatus(statusPath: string): ExitStatus | undefined {
    try {
      return JSON.parse(readFileSync(statusPath, 'utf8')) as ExitStatus;
    } catch {
      return undefined;
    }
  }

  cleanup(id: string, opts: { removeAnonymousVolumes: boolean; anonymousVolumes?: readonly string[] }): void {
    this.cleanups.push({ id, ...opts });
  }

  async close(): Promise<void> {}
}

/** Processes of a group that can still run (zombies cannot write; reparented ones may be reaped late). */
function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(name);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') out.push(Number(name));
  }
  return out;
}

/** SIGKILL what is left of a process group and wait until none of it runs. */
export async function killGroup(pgid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (liveMembers(pgid).length === 0) return;
    try { process.kill(-pgid, 'SIGKILL'); } catch { return; /* ESRCH: nobody left */ }
    await new Promise((r) => setTimeout(r, 5));
  }
}

export class FakeImages implements ImageService {
  readonly imports: ({ tag?: string } | undefined)[] = [];
  images: ImageView[] = [{
    id: 'sha256:' + 'a'.repeat(64), tags: ['busybox:latest'], config: { Cmd: ['sh'], Env: ['PATH=/usr/bin:/bin'] },
    created: '2024-01-01T00:00:00Z', size: 1234, layers: ['b'.repeat(64)], diffIds: ['sha256:' + 'b'.repeat(64)], repoDigests: [],
  }];

  async importImage(source: string | NodeJS.ReadableStream, opts?: { tag?: string }): Promise<{ images: ImageView[] }> {
    if (typeof source !== 'string') for await (const _ of source as AsyncIterable<unknown>) { /* drain the upload */ }
    this.imports.push(opts);
    const img = this.images[0]!;
    if (opts?.tag !== undefined && !img.tags.includes(opts.tag)) img.tags = [...img.tags, opts.tag];
    return { images: [img] };
  }
  listImages(): ImageView[] {
    return this.images;
  }
  inspectImage(ref: string): ImageView {
    const img = this.images.find((i) => i.id === ref || i.tags.includes(ref) || i.tags.includes(`${ref}:latest`));
    if (!img) throw new NoSuchImageError(ref);
    return img;
  }
  tagImage(ref: string, tag: string): void {
    const img = this.inspectImage(ref);
    for (const i of this.images) i.tags = i.tags.filter((t) => t !== tag);
    img.tags = [...img.tags, tag];
  }
  removeImage(ref: string): { untagged: string[]; deleted: string[] } {
    const img = this.inspectImage(ref);
    this.images = this.images.filter((i) => i !== img);
    return { untagged: img.tags, deleted: [img.id] };
  }
}
