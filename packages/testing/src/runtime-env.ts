import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinuxSyscalls, PrivateMountNamespace } from '@berth/syscall';
import { LayerStore } from '@berth/layers';
import { VolumeStore } from '@berth/volumes';
import { Runtime, parseCreateBody, type ContainerSpec, type ExitStatus, type StartedContainer } from '@berth/runtime';

/** tools/busybox-image.mjs (plain ESM shared with the quick start), loaded from the repository. */
async function writeBusyboxImage(path: string, options: object): Promise<unknown> {
  const mod = (await import(new URL('../../../tools/busybox-image.mjs', import.meta.url).href)) as {
    writeBusyboxImage(p: string, o: object): Promise<unknown>;
  };
  return mod.writeBusyboxImage(path, options);
}

/** The `HostConfig` and top-level `Config` fields of a create body, as a Docker client sends them. */
export type BodyFields = Record<string, unknown>;

export interface RunResult {
  status: ExitStatus;
  output: string;
  started: StartedContainer;
  /** The container as `Runtime.create` resolved it. */
  spec: ContainerSpec;
}

/** A real berth root in a temp dir: stores, berth's namespace, a runtime and a busybox image. */
export interface TestEnv {
  root: string;
  syscalls: LinuxSyscalls;
  mountNamespace: PrivateMountNamespace;
  layers: LayerStore;
  volumes: VolumeStore;
  runtime: Runtime;
  /** Create a container (its record, volumes made and referenced), as `docker create`. */
  create(cmd: string[], hostConfig?: BodyFields, config?: BodyFields, image?: string): { id: string; spec: ContainerSpec };
  /** Start a container and return at once (output goes to a file read by `output()`). */
  start(cmd: string[], hostConfig?: BodyFields, config?: BodyFields, image?: string): Promise<{ started: StartedContainer; output: () => string; id: string; spec: ContainerSpec }>;
  /** Run a container to completion and clean it up. */
  run(cmd: string[], hostConfig?: BodyFields, config?: BodyFields, image?: string): Promise<RunResult>;
  importImage(options?: { tag?: string; volumes?: string[]; symlinks?: Record<string, string>; omit?: string[] }): Promise<void>;
  close(): Promise<void>;
}

export async function openTestEnv(options: { workers?: number; sandboxes?: number; root?: string } = {}): Promise<TestEnv> {
  // A given root must exist (a test may put files in it before the stores open).
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  const syscalls = new LinuxSyscalls();
  const mountNamespace = PrivateMountNamespace.create(syscalls);
  const layers = LayerStore.open(root, { syscalls });
  const volumes = VolumeStore.open(root, { syscalls, mountNamespace });
  const runtime = await Runtime.open({ root, layers, volumes, syscalls, mountNamespace, workers: options.workers ?? 2, ...(options.sandboxes === undefined ? {} : { sandboxes: options.sandboxes }) });
  const env: TestEnv = {
    root, syscalls, mountNamespace, layers, volumes, runtime,
    async importImage(opts = {}) {
      const archive = join(root, `image-${randomBytes(4).toString('hex')}.tar`);
      await writeBusyboxImage(archive, opts);
      await layers.importImage(archive);
      rmSync(archive);
    },
    create(cmd, hostConfig = {}, config = {}, image = 'busybox') {
      const id = randomBytes(32).toString('hex');
      return { id, spec: runtime.create(parseCreateBody({ ...config, Image: image, Cmd: cmd, HostConfig: hostConfig }), { id }) };
    },
    async start(cmd, hostConfig = {}, config = {}, image = 'busybox') {
      const { id, spec } = env.create(cmd, hostConfig, config, image);
      const out = join(root, `${id}.out`);
      const fd = openSync(out, 'w');
      try {
        const started = await runtime.start({ id, spec, stdio: { stdout: fd, stderr: fd }, statusPath: join(root, `${id}.status`) });
        return { started, id, spec, output: () => readFileSync(out, 'utf8') };
      } finally {
        closeSync(fd);
      }
    },
    async run(cmd, hostConfig = {}, config = {}, image = 'busybox') {
      const { started, id, output, spec } = await env.start(cmd, hostConfig, config, image);
      const status = await started.exited;
      await runtime.cleanup(id, { removeAnonymousVolumes: false });
      return { status, output: output(), started, spec };
    },
    async close() {
      await runtime.close();
      await layers.idle();
      layers.close();
      volumes.close();
      mountNamespace.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await env.importImage();
  return env;
}
