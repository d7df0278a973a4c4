import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_BIND, MS_REC,
} from '@berth/syscall';
import { PlanError } from '../errors.js';
import { goPathClean } from '../spec/go-compat.js';
import { effectiveTmpfsOptions } from '../spec/tmpfs-options.js';
import {
  DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, DEV_TMPFS, PROC_FLAGS, SYSFS_FLAGS,
  defaultCapabilities, defaultDevices, defaultDevMounts, defaultDevSymlinks,
} from './defaults.js';
import { propagationFlag, splitMountOptions } from './mount-flags.js';
import type {
  ExecInput, ExecPlan, LaunchPlan, PlanContainerConfig, PlanHostConfig, PlanImageConfig, PlanInput, PlannedLimits,
  PlannedMount, ResolvedMount,
} from './types.js';

/**
 * Plans a launch as data: namespaces, the ordered mounts, /dev and /sys,
 * masked paths, hostname, env, cwd, user, process and limits, with Docker's
 * merge rules and defaults. Pure: touches nothing, and the result crosses to
 * a worker thread as JSON. Throws PlanError (Docker's messages) for configs
 * Docker refuses.
 */
export function planLaunch(input: PlanInput): LaunchPlan {
  const { config, hostConfig: host, image } = input;
  const network = networkOf(host.NetworkMode, input.networkProvided === true);
  const namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (network === 'host' ? 0 : CLONE_NEWNET);
  const hostname = hostnameOf(input, network);
  const tty = config.Tty === true;
  const userMounts = input.mounts.map((m) => planMount(m));
  const userDests = new Set(userMounts.map((m) => m.destination));

  return {
    containerId: input.containerId,
    namespaces,
    network,
    rootfs: { ...input.rootfs, options: [...input.rootfs.options] },
    mounts: userMounts,
    dev: {
      tmpfs: { ...DEV_TMPFS },
      devices: defaultDevices(),
      // A user mount on /dev/shm (say) replaces Docker's default one.
      mounts: defaultDevMounts().filter((m) => !userDests.has(`/dev/${m.name}`)),
      symlinks: defaultDevSymlinks(),
    },
    sys: { destination: '/sys', fstype: 'sysfs', flags: SYSFS_FLAGS },
    proc: { destination: '/proc', fstype: 'proc', flags: PROC_FLAGS },
    maskedPaths: [...(host.MaskedPaths ?? DEFAULT_MASKED_PATHS)],
    readonlyPaths: [...(host.ReadonlyPaths ?? DEFAULT_READONLY_PATHS)],
    hostname,
    env: environment(config, image, hostname, tty),
    cwd: workingDir(config, image),
    user: nonEmpty(config.User) ?? nonEmpty(image.User) ?? '',
    process: { args: commandOf(config, image), tty },
    init: host.Init === true,
    limits: limitsOf(host, input.hostCpus),
    readonlyRootfs: host.ReadonlyRootfs === true,
    capabilities: defaultCapabilities(),
    initPath: input.initPath,
    cgroupParent: input.cgroupParent ?? '',
  };
}

function nonEmpty(s: string | null | undefined): string | undefined {
  return s === null || s === undefined || s === '' ? undefined : s;
}

/**
 * 'host' keeps the host's namespace; anything else is a private one, with
 * loopback only unless the caller provides the namespace (a network hook
 * configured it, or `container:<id>` joins another's): a user network or
 * `container:` without one is refused rather than silently cut off.
 */
function networkOf(mode: string | null | undefined, provided: boolean): 'none' | 'host' {
  const m = mode ?? '';
  if (m === 'host') return 'host';
  if (m === '' || m === 'default' || m === 'bridge' || m === 'none' || provided) return 'none';
  if (m.startsWith('container:')) {
    throw new PlanError('unsupported-network', `network mode "${m}" is not supported by berth: use none or host`);
  }
  throw new PlanError('unsupported-network', `network ${m} not found`);
}

/**
 * `docker exec` as data: the container's environment with the exec's Env
 * on top (the same PATH, HOSTNAME and TERM rules), its user and working
 * directory unless the exec names its own, Docker's capabilities.
 */
export function planExec(input: ExecInput): ExecPlan {
  const { config, image, exec } = input;
  if (exec.Cmd.length === 0) throw new PlanError('no-command', 'No exec command specified');
  const tty = exec.Tty === true;
  // The hostname the container was given (exec cannot change it; with --network host it is the host's own anyway).
  const hostname = nonEmpty(config.Hostname) ?? input.containerId.slice(0, 12);
  const workdir = nonEmpty(exec.WorkingDir);
  if (workdir !== undefined && !workdir.startsWith('/')) {
    throw new PlanError('invalid-config', `the working directory '${workdir}' is invalid, it needs to be an absolute path`);
  }
  return {
    args: [...exec.Cmd],
    env: environment({ ...config, Env: [...(config.Env ?? []), ...(exec.Env ?? [])] }, image, hostname, tty),
    user: nonEmpty(exec.User) ?? nonEmpty(config.User) ?? nonEmpty(image.User) ?? '',
    cwd: workdir !== undefined ? goPathClean(workdir) : workingDir(config, image),
    tty,
    capabilities: defaultCapabilities(),
  };
}

function hostnameOf(input: PlanInput, network: 'none' | 'host'): string {
  const given = nonEmpty(input.config.Hostname);
  const hostname = given ?? (network === 'host' ? nonEmpty(input.hostHostname) : undefined) ?? input.containerId.slice(0, 12);
  // sethostname(2) refuses more than 64 bytes (HOST_NAME_MAX).
  if (Buffer.byteLength(hostname) > 64) {
    throw new PlanError('invalid-config', `invalid hostname "${hostname}": longer than 64 characters`);
  }
  return hostname;
}

/**
 * Docker's `merge` + `mergeAndVerifyConfig` + `getEntrypointAndArgs`: a
 * container Entrypoint replaces the image's and drops the image Cmd; an
 * Entrypoint of `[""]` means none; no command at all is an error.
 */
function commandOf(config: PlanContainerConfig, image: PlanImageConfig): string[] {
  let entrypoint = config.Entrypoint ?? null;
  let cmd = config.Cmd ?? null;
  if (entrypoint === null || entrypoint.length === 0) {
    if (cmd === null || cmd.length === 0) cmd = image.Cmd ?? null;
    if (entrypoint === null) entrypoint = image.Entrypoint ?? null;
  }
  if (entrypoint !== null && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;
  const args = [...(entrypoint ?? []), ...(cmd ?? [])];
  if ((entrypoint ?? []).length === 0 && (cmd ?? []).length === 0) throw new PlanError('no-command', 'no command specified');
  return args;
}

/** Docker's env: container entries first, then image entries whose key the container does not set. */
function mergedEnv(config: PlanContainerConfig, image: PlanImageConfig): string[] {
  const user = config.Env ?? [];
  const fromImage = image.Env ?? [];
  if (user.length === 0) return [...fromImage];
  const key = (e: string): string => e.split('=', 1)[0] ?? '';
  const userKeys = new Set(user.map(key));
  return [...user, ...fromImage.filter((e) => !userKeys.has(key(e)))];
}

/** Docker's `CreateDaemonEnvironment`: PATH, HOSTNAME, TERM, then replace-or-append; `KEY` alone unsets. */
function environment(config: PlanContainerConfig, image: PlanImageConfig, hostname: string, tty: boolean): string[] {
  const env = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`];
  if (tty) env.push('TERM=xterm');
  const index = new Map(env.map((e, i) => [e.slice(0, e.indexOf('=')), i]));
  const out: Array<string | null> = [...env];
  for (const value of mergedEnv(config, image)) {
    const eq = value.indexOf('=');
    if (eq < 0) {
      const i = index.get(value);
      if (i !== undefined) out[i] = null;
      continue;
    }
    const i = index.get(value.slice(0, eq));
    if (i !== undefined) out[i] = value;
    else out.push(value);
  }
  return out.filter((e): e is string => e !== null);
}

function workingDir(config: PlanContainerConfig, image: PlanImageConfig): string {
  const wd = nonEmpty(config.WorkingDir) ?? nonEmpty(image.WorkingDir);
  if (wd === undefined) return '/';
  if (!wd.startsWith('/')) {
    throw new PlanError('invalid-config', `the working directory '${wd}' is invalid, it needs to be an absolute path`);
  }
  return goPathClean(wd);
}

function planMount(r: ResolvedMount): PlannedMount {
  const spec = r.spec;
  const anonymous = r.anonymous ?? spec.anonymous;
  const base = {
    type: spec.type,
    destination: spec.destination,
    readOnly: spec.readOnly,
    createSource: spec.createSource,
    sourceIsFile: r.sourceIsFile === true,
    anonymous,
  };
  if (spec.type === 'tmpfs') {
    const options = effectiveTmpfsOptions(spec);
    const split = splitMountOptions(options);
    return {
      ...base, kind: 'tmpfs', source: 'tmpfs', flags: split.flags, data: split.data === '' ? null : split.data,
      readOnly: options.includes('ro'), recursive: false, recursiveReadOnly: false, requireRecursiveReadOnly: false,
      propagation: split.propagation.flag, propagationRecursive: split.propagation.recursive,
    };
  }
  const recursive = spec.recursive !== 'disabled';
  const propagation = propagationFlag(spec.propagation);
  const planned: PlannedMount = {
    ...base,
    kind: 'bind',
    source: r.source,
    flags: MS_BIND | (recursive ? MS_REC : 0),
    data: null,
    recursive,
    recursiveReadOnly: spec.readOnly && spec.recursive !== 'writable',
    requireRecursiveReadOnly: spec.readOnly && spec.recursive === 'readonly',
    propagation: propagation.flag,
    propagationRecursive: propagation.recursive,
  };
  if (spec.subpath !== undefined) planned.subpath = spec.subpath;
  if (r.volumeName !== undefined) planned.volumeName = r.volumeName;
  if (spec.fromContainer !== undefined) planned.fromContainer = spec.fromContainer;
  if (spec.type === 'volume' && !spec.nocopy && spec.fromContainer === undefined) {
    planned.copyUp = { volume: r.volumeName ?? spec.source, fromImage: spec.fromImage === true };
  }
  return planned;
}

const MIN_MEMORY = 6 * 1024 * 1024;

/** Docker's resource checks (daemon_unix.go) and its defaults: swap twice the memory, NanoCpus as a CFS quota. */
function limitsOf(host: PlanHostConfig, hostCpus: number | undefined): PlannedLimits {
  const num = (name: keyof PlanHostConfig): number => {
    const v = host[name];
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new PlanError('invalid-config', `invalid HostConfig.${name}: expected an integer`);
    }
    return v;
  };
  const memory = num('Memory');
  let swap = num('MemorySwap');
  const pids = num('PidsLimit');
  const nano = num('NanoCpus');
  const quota = num('CpuQuota');
  const period = num('CpuPeriod');
  const shares = num('CpuShares');
  const fail = (message: string): never => {
    throw new PlanError('invalid-config', message);
  };

  if (memory !== 0 && memory < MIN_MEMORY) fail('Minimum memory limit allowed is 6MB');
  if (memory === 0 && swap > 0) fail('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && swap < memory) fail('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (nano !== 0 && period !== 0) fail('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano !== 0 && quota !== 0) fail('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || (hostCpus !== undefined && nano > hostCpus * 1e9)) {
    const n = hostCpus ?? 0;
    fail(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1_000_000)) {
    fail('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (quota > 0 && quota < 1000) fail('CPU cfs quota can not be less than 1ms (i.e. 1000)');

  const limits: PlannedLimits = {};
  if (memory > 0) {
    limits.memoryBytes = memory;
    if (swap === 0) swap = memory * 2;
  }
  if (swap > 0 || swap === -1) {
    if (memory > 0) limits.memorySwapBytes = swap;
  }
  if (pids > 0) limits.pidsMax = pids;
  if (nano > 0) {
    limits.cpuPeriodUs = 100_000;
    limits.cpuQuotaUs = Math.max(1000, Math.floor((nano * 100_000) / 1e9));
  } else {
    if (quota > 0) limits.cpuQuotaUs = quota;
    if (period > 0) limits.cpuPeriodUs = period;
  }
  if (shares > 0) limits.cpuShares = shares;
  return limits;
}
