/**
 * @berth/runtime: the launch. Mount specs become a plan (data); one executor
 * on a warm worker thread turns the plan into namespaces and mounts; a small
 * C init finishes inside the container.
 *
 * ```ts
 * import { LinuxSyscalls } from '@berth/syscall';
 * import { LayerStore } from '@berth/layers';
 * import { VolumeStore } from '@berth/volumes';
 * import { Runtime } from '@berth/runtime';
 *
 * const syscalls = new LinuxSyscalls();
 * const layers = LayerStore.open('/var/lib/berth', { syscalls });
 * const runtime = await Runtime.open({ root: '/var/lib/berth', layers, volumes: VolumeStore.open('/var/lib/berth', { syscalls }) });
 * const c = await runtime.start({ id, image: 'busybox', config: { Cmd: ['echo', 'hi'] }, hostConfig: { Binds: ['data:/data'] },
 *   stdio: { stdout: 1, stderr: 2 }, statusPath: '/tmp/status' });
 * console.log((await c.exited).exitCode);
 * ```
 */
export { Runtime, type RuntimeOptions, type StartOptions } from './runtime.js';
export type {
  ContainerConfig, ExecRequest, ExitStatus, HostConfig, MountPoint, StartRequest, StartedContainer, StartedExec, StdioFds,
  NetworkHook, NetworkFiles,
} from './runtime-types.js';
export { parseStatusLine, processStartTime, readStatusFile, signalName } from './status.js';
export * from './spec/index.js';
export * from './plan/index.js';
export { Cgroups, CgroupError, type CgroupHandle, type CgroupLimits, type CgroupsOptions } from './cgroups/index.js';
export {
  BindPropagationError, BindSourceMissingError, LaunchError, MountSpecError, WorkerRetiredError, isMountSpecError,
  type MountSpecErrorCode,
} from './errors.js';
export { Executor } from './executor/execute.js';
export { LaunchPool, type PoolOptions } from './executor/pool.js';
export { initArguments } from './executor/init-args.js';
export { checkBindPropagation, parseMountPropagation } from './propagation.js';
