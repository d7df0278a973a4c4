/**
 * @berth/runtime: the launch. Mount specs become a plan (data); one executor
 * on a warm worker thread turns the plan into namespaces and mounts; a small
 * C shim outside the container forks the stub that finishes inside it and
 * execs the command as PID 1.
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
export { Runtime, imageFacts, releaseNetnsHolder, runningNetnsHolders, type CreateOptions, type RuntimeOptions, type StartOptions } from './runtime.js';
export type {
  AdoptedContainer, ProcessRef, ExecRequest, ExitStatus, MountPoint, NetworkFiles, NetworkHook, NetworkSetup, StartRequest, StartedContainer, StartedExec,
  StdioFds,
} from './runtime-types.js';
export * from './container/index.js';
export {
  parseShimState, parseStatusLine, processStartTime, readShimState, readStatusFile, signalName, type ShimState,
} from './status.js';
export * from './spec/index.js';
export * from './plan/index.js';
export { Cgroups, CgroupError, type CgroupHandle, type CgroupLimits, type CgroupsOptions, type CgroupSample, type ContainerSample, type NetworkStats } from './cgroups/index.js';
export {
  ArchiveError, BindPropagationError, BindSourceMissingError, CreateRequestError, LaunchError, MountSpecError, PlanError, SeccompCompileError,
  SecurityConfigError, StateRootError, UnsupportedFieldError, WorkerRetiredError, isMountSpecError, isPlanError, isSecurityConfigError,
  type MountSpecErrorCode, type SecurityErrorCode,
} from './errors.js';
export * from './security/index.js';
export { Executor } from './executor/execute.js';
export { LaunchPool, type PoolOptions } from './executor/pool.js';
export { initArguments } from './executor/init-args.js';
export { checkBindPropagation, parseMountPropagation } from './propagation.js';
export {
  ContainerFiles, encodePathStat, goFileMode, goTime, type ArchiveTarget, type ContainerPathStat, type ExtractOptions,
} from './archive/index.js';
