import {
  CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS, MS_BIND, MS_PRIVATE, MS_RDONLY, MS_REC,
} from '@berth/syscall';
import { PlanError } from '../errors.js';
import { goPathClean } from '../spec/go-compat.js';
import { effectiveTmpfsOptions } from '../spec/tmpfs-options.js';
import {
  DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS, DEV_TMPFS, PROC_FLAGS, SYSFS_FLAGS,
  defaultCapabilities, defaultDevices, defaultDevMounts, defaultDevSymlinks,
} from './defaults.js';
import {
  defaultDeviceRules, parseDeviceCgroupRule, planDeviceMappings, privilegedDeviceRules, privilegedDevices,
  type DeviceRule, type PlannedDevice,
} from './devices.js';
import { propagationFlag, splitMountOptions } from './mount-flags.js';
import type { ResolvedSecurity } from '../security/types.js';
import type {
  ExecInput, ExecPlan, JoinNamespaces, LaunchPlan, NamespaceDonors, PlanContainerConfig, PlanHostConfig,
  PlanInput, PlannedLimits, PlannedMount, ResolvedMount,
} from './types.js';

/**
 * Plans a launch as data: namespaces, the ordered mounts, /dev and /sys,
 * masked paths, hostname, env, cwd, user, process and limits, with Docker's
 * merge rules and defaults. Pure: touches nothing, and the result crosses to
 * a worker thread as JSON. Throws PlanError (Docker's messages) for configs
 * Docker refuses.
 */
export function planLaunch(input: PlanInput): LaunchPlan {
  const { config, hostConfig: host } = input;
  const network = networkOf(host.NetworkMode, input.networkProvided === true);
  const modes = namespaceModes(host, input.namespaceDonors);
  // Never CLONE_NEWPID on the thread: the shim makes (or joins) the pid namespace, so that its child,
  // the command, is PID 1 and the shim stays outside.
  const namespaces = CLONE_NEWNS | modes.unshare | (network === 'host' ? 0 : CLONE_NEWNET);
  // Resolved at create (with --network host or --uts host, the host's own name).
  const hostname = hostnameOf(config, input.containerId);
  const tty = config.Tty === true;
  const init = host.Init === true;
  const userMounts = input.mounts.map((m) => planMount(m));
  // Docker's --init: its docker-init bound read-only after every other mount, run as `docker-init -- CMD`.
  if (init) userMounts.push(initMount(input.initBinary ?? DEFAULT_INIT_BINARY));
  const userDests = new Set(userMounts.map((m) => m.destination));
  const privileged = host.Privileged === true;
  const access = deviceAccess(input, privileged);
  // /dev/shm: the container's own tmpfs, unless a user mount, a shared IPC namespace or `--ipc none` says otherwise.
  const ownShm = modes.shm === 'own' && !userDests.has('/dev/shm');
  const security = input.security;

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
      mounts: defaultDevMounts(host.ShmSize ?? 0).filter((m) => !userDests.has(`/dev/${m.name}`) && (m.name !== 'shm' || ownShm)),
      symlinks: defaultDevSymlinks(),
    },
    // Privileged: /sys writable, nothing masked or read-only (moby's WithMounts / WithMaskedPaths).
    sys: { destination: '/sys', fstype: 'sysfs', flags: privileged ? SYSFS_FLAGS & ~MS_RDONLY : SYSFS_FLAGS },
    proc: { destination: '/proc', fstype: 'proc', flags: PROC_FLAGS },
    // The resolved security settings say it (privileged or systempaths=unconfined: none); else HostConfig's, else Docker's.
    maskedPaths: [...(security?.maskedPaths ?? (privileged ? [] : host.MaskedPaths ?? DEFAULT_MASKED_PATHS))],
    readonlyPaths: [...(security?.readonlyPaths ?? (privileged ? [] : host.ReadonlyPaths ?? DEFAULT_READONLY_PATHS))],
    hostname,
    env: environment(config.Env ?? [], hostname, tty, input.linkEnv),
    cwd: workingDir(config),
    user: nonEmpty(config.User) ?? '',
    process: { args: init ? [IN_CONTAINER_INIT, '--', ...commandOf(config)] : commandOf(config), tty },
    pidNamespace: modes.pidNamespace,
    init,
    limits: limitsOf(host, input.hostCpus),
    readonlyRootfs: host.ReadonlyRootfs === true,
    ...securityFields(security, input.seccompPath),
    initPath: input.initPath,
    cgroupParent: input.cgroupParent ?? '',
    cgroupV1Parents: input.cgroupV1Parents ?? {},
    privileged,
    devices: access.devices,
    deviceRules: access.rules,
    joinNamespaces: modes.join,
    ...(modes.shm === 'shared' && !userDests.has('/dev/shm') ? { sharedShm: modes.sharedShm } : {}),
  };
}

/** The device cgroup and extra nodes: Docker's defaults, `--device`, `--device-cgroup-rule`; everything when privileged. */
function deviceAccess(input: PlanInput, privileged: boolean): { devices: PlannedDevice[]; rules: DeviceRule[] } {
  const host = input.hostConfig;
  const cgroupRules = (host.DeviceCgroupRules ?? []).map(parseDeviceCgroupRule);
  const mapped = planDeviceMappings(host.Devices ?? [], input.hostDevices);
  if (privileged) {
    // moby: with --privileged every host device is there, and --device adds to (or renames) them.
    const devices = privilegedDevices(input.hostDevices);
    const paths = new Set(mapped.devices.map((d) => d.path));
    return { devices: [...devices.filter((d) => !paths.has(d.path)), ...mapped.devices], rules: privilegedDeviceRules() };
  }
  return { devices: mapped.devices, rules: [...defaultDeviceRules(), ...mapped.rules, ...cgroupRules] };
}

interface NamespaceModes {
  /** CLONE_NEWUTS | CLONE_NEWIPC as the modes leave them to unshare (the pid namespace is the shim's: `pidNamespace`). */
  unshare: number;
  /** The shim's `--pidns`: a new one, the host's, or the nsfs path of another container's. */
  pidNamespace: LaunchPlan['pidNamespace'];
  join: JoinNamespaces;
  utsHost: boolean;
  shm: 'own' | 'shared' | 'none';
  sharedShm: { mountNamespace?: string };
}

/**
 * The create-time check of `PidMode`, `IpcMode` and `UTSMode` (moby validates
 * them at create): the same errors as `planLaunch`, without the donors a
 * `container:` mode needs at start. Returns the container names those modes
 * refer to, for the caller to resolve.
 */
export function validateNamespaceModes(host: PlanHostConfig): { pid?: string; ipc?: string } {
  const donors: NamespaceDonors = { pid: 0, ipc: 0 };
  const modes = namespaceModes(host, donors);
  const out: { pid?: string; ipc?: string } = {};
  const pid = containerOf(host.PidMode ?? '');
  const ipc = containerOf(host.IpcMode ?? '');
  if (modes.pidNamespace !== 'new' && modes.pidNamespace !== 'host' && pid !== undefined) out.pid = pid;
  if (modes.join.ipc !== undefined && ipc !== undefined) out.ipc = ipc;
  return out;
}

/** The text after `container:`, or undefined for another mode (moby's `containerID`). */
function containerOf(mode: string): string | undefined {
  return mode.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/**
 * `--pid`, `--ipc`, `--uts` (moby's PidMode/IpcMode/UTSMode `Valid()` and
 * their errors). A `container:` mode joins the donor's namespace through
 * the pid the caller resolved; the executor opens `/proc/<pid>/ns/<kind>`.
 */
function namespaceModes(host: PlanHostConfig, donors: NamespaceDonors | undefined): NamespaceModes {
  const out: NamespaceModes = { unshare: 0, pidNamespace: 'new', join: {}, utsHost: false, shm: 'own', sharedShm: {} };
  const pidMode = host.PidMode ?? '';
  const pidContainer = containerOf(pidMode);
  if (pidMode === '') out.pidNamespace = 'new';
  else if (pidMode === 'host') out.pidNamespace = 'host';
  else if (pidContainer !== undefined && pidContainer !== '') {
    if (donors?.pid === undefined) throw new PlanError('invalid-config', `cannot join PID of a non running container: ${pidContainer}`);
    out.pidNamespace = `/proc/${donors.pid}/ns/pid`;
  } else throw new PlanError('invalid-config', `invalid PID mode: ${pidMode}`);

  const ipcMode = host.IpcMode ?? '';
  const ipcContainer = containerOf(ipcMode);
  if (ipcMode === '' || ipcMode === 'private' || ipcMode === 'shareable') out.unshare |= CLONE_NEWIPC;
  else if (ipcMode === 'none') {
    out.unshare |= CLONE_NEWIPC;
    out.shm = 'none';
  } else if (ipcMode === 'host') out.shm = 'shared';
  else if (ipcContainer !== undefined) {
    if (donors?.ipc === undefined) {
      throw new PlanError('invalid-config', `can't join IPC of container ${ipcContainer}: it is not running`);
    }
    out.join.ipc = `/proc/${donors.ipc}/ns/ipc`;
    out.shm = 'shared';
    out.sharedShm = { mountNamespace: `/proc/${donors.ipc}/ns/mnt` };
  } else throw new PlanError('invalid-config', `invalid IPC mode: ${ipcMode}`);

  const utsMode = host.UTSMode ?? '';
  if (utsMode === '') out.unshare |= CLONE_NEWUTS;
  else if (utsMode === 'host') out.utsHost = true;
  else throw new PlanError('invalid-config', `invalid UTS mode: ${utsMode}`);
  return out;
}

/** The plan's security fields from the resolved settings (Docker's defaults without them). */
function securityFields(security: ResolvedSecurity | undefined, seccompPath: string | undefined): Pick<
  LaunchPlan, 'capabilities' | 'privileged' | 'noNewPrivileges' | 'seccomp' | 'groupAdd' | 'oomScoreAdj' | 'rlimits' | 'sysctls'
> {
  const out: ReturnType<typeof securityFields> = {
    capabilities: security?.capabilities ?? defaultCapabilities(),
    privileged: security?.privileged ?? false,
    noNewPrivileges: security?.noNewPrivileges ?? false,
    groupAdd: [...(security?.groupAdd ?? [])],
    oomScoreAdj: security?.oomScoreAdj ?? 0,
    rlimits: (security?.ulimits ?? []).map((u) => ({ ...u })),
    sysctls: (security?.sysctls ?? []).map((s) => ({ ...s })),
  };
  if (seccompPath !== undefined) out.seccomp = { path: seccompPath };
  return out;
}

/** Debian's static tini, what Docker ships as docker-init. */
export const DEFAULT_INIT_BINARY = '/usr/bin/tini-static';
/** Where Docker puts its init in the container (daemon/oci_linux.go inContainerInitPath). */
export const IN_CONTAINER_INIT = '/sbin/docker-init';

function initMount(source: string): PlannedMount {
  return {
    kind: 'bind', type: 'bind', source, destination: IN_CONTAINER_INIT, flags: MS_BIND, data: null,
    recursive: false, readOnly: true, recursiveReadOnly: false, requireRecursiveReadOnly: false,
    propagation: MS_PRIVATE, propagationRecursive: false, createSource: false, sourceIsFile: true, anonymous: false,
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
  // The library's own default ('' or 'default') is loopback only. A named network, `bridge`
  // included, is a network service's to provide (a hook): without one it does not exist here.
  if (m === '' || m === 'default' || m === 'none' || provided) return 'none';
  if (m.startsWith('container:')) {
    throw new PlanError('unsupported-network', `network mode "${m}" is not supported by berth: use none or host`);
  }
  throw new PlanError('no-such-network', `network ${m} not found`);
}

/**
 * `docker exec` as data: the container's environment with the exec's Env
 * on top (the same PATH, HOSTNAME and TERM rules), its user and working
 * directory unless the exec names its own, Docker's capabilities.
 */
export function planExec(input: ExecInput): ExecPlan {
  const { config, exec } = input;
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
    env: environment([...(config.Env ?? []), ...(exec.Env ?? [])], hostname, tty, input.linkEnv),
    user: nonEmpty(exec.User) ?? nonEmpty(config.User) ?? '',
    cwd: workdir !== undefined ? goPathClean(workdir) : workingDir(config),
    tty,
    ...execSecurity(input.security, input.seccompPath),
  };
}

function execSecurity(security: ResolvedSecurity | undefined, seccompPath: string | undefined): Pick<ExecPlan, 'capabilities' | 'noNewPrivileges' | 'seccomp' | 'groupAdd'> {
  const out: ReturnType<typeof execSecurity> = {
    capabilities: security?.capabilities ?? defaultCapabilities(),
    noNewPrivileges: security?.noNewPrivileges ?? false,
    groupAdd: [...(security?.groupAdd ?? [])],
  };
  if (seccompPath !== undefined) out.seccomp = { path: seccompPath };
  return out;
}

function hostnameOf(config: PlanContainerConfig, containerId: string): string {
  // Resolved at create (the id's first 12 characters, or the host's name with --network host).
  const hostname = nonEmpty(config.Hostname) ?? containerId.slice(0, 12);
  // sethostname(2) refuses more than 64 bytes (HOST_NAME_MAX).
  if (Buffer.byteLength(hostname) > 64) {
    throw new PlanError('invalid-config', `invalid hostname "${hostname}": longer than 64 characters`);
  }
  return hostname;
}

/** Docker's `getEntrypointAndArgs`: the stored (image-merged) Entrypoint, then Cmd. */
function commandOf(config: PlanContainerConfig): string[] {
  const args = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (args.length === 0) throw new PlanError('no-command', 'No command specified');
  return args;
}

/**
 * Docker's `CreateDaemonEnvironment`: PATH, HOSTNAME, TERM, the link
 * variables, then replace-or-append of the container's own; `KEY` alone
 * unsets. A name keeps its first place and its last value (containerd's
 * `WithEnv`).
 */
function environment(containerEnv: readonly string[], hostname: string, tty: boolean, linkEnv: readonly string[] = []): string[] {
  const env = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`];
  if (tty) env.push('TERM=xterm');
  const index = new Map<string, number>();
  const out: Array<string | null> = [];
  for (const value of [...env, ...linkEnv]) {
    const key = value.slice(0, value.indexOf('='));
    const i = index.get(key);
    if (i !== undefined) out[i] = value;
    else index.set(key, out.push(value) - 1);
  }
  for (const value of containerEnv) {
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

function workingDir(config: PlanContainerConfig): string {
  const wd = nonEmpty(config.WorkingDir);
  if (wd === undefined) return '/';
  if (!wd.startsWith('/')) {
    throw new PlanError('invalid-config', `the working directory '${wd}' is invalid, it needs to be an absolute path`);
  }
  return goPathClean(wd);
}

/**
 * What Docker refuses at create about a resolved container: no command, a
 * relative working directory, resource values out of range, a network mode
 * berth does not provide, a hostname the kernel would refuse. `planLaunch`
 * checks the same things again at start (a stored record is trusted, but
 * the checks are cheap and keep the plan total).
 */
export function checkLaunchable(config: PlanContainerConfig, host: PlanHostConfig, hostCpus?: number): void {
  commandOf(config);
  workingDir(config);
  // A user network is the network service's to resolve (the supervisor's); its absence fails the start.
  networkOf(host.NetworkMode, true);
  // The modes' syntax; whether a `container:` one names a running container is the start's question.
  validateNamespaceModes(host);
  hostnameOf(config, 'x'.repeat(12));
  limitsOf(host, hostCpus);
}

function planMount(r: ResolvedMount): PlannedMount {
  const spec = r.spec;
  const anonymous = r.anonymous ?? spec.anonymous;
  // Literals written out, not `{ ...common, kind, ... }`: on Node 20 each
  // property added after a spread cost ~1.4 us (a plan with 100 binds spent
  // 1.3 ms here), where a plain literal costs 0.1 us.
  if (spec.type === 'tmpfs') {
    const options = effectiveTmpfsOptions(spec);
    const split = splitMountOptions(options);
    return {
      type: spec.type, destination: spec.destination, readOnly: options.includes('ro'), createSource: spec.createSource,
      sourceIsFile: r.sourceIsFile === true, anonymous,
      kind: 'tmpfs', source: 'tmpfs', flags: split.flags, data: split.data === '' ? null : split.data,
      recursive: false, recursiveReadOnly: false, requireRecursiveReadOnly: false,
      propagation: split.propagation.flag, propagationRecursive: split.propagation.recursive,
    };
  }
  const recursive = spec.recursive !== 'disabled';
  const propagation = propagationFlag(spec.propagation);
  const planned: PlannedMount = {
    type: spec.type, destination: spec.destination, readOnly: spec.readOnly, createSource: spec.createSource,
    sourceIsFile: r.sourceIsFile === true, anonymous,
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

/**
 * Docker's resource checks (daemon_unix.go) and its defaults: swap twice the memory, NanoCpus as a CFS quota.
 * The one translation of a HostConfig into cgroup limits: the launch and `docker update` both use it.
 */
export function resourceLimits(host: PlanHostConfig, hostCpus: number | undefined): PlannedLimits {
  return limitsOf(host, hostCpus);
}

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
  const reservation = num('MemoryReservation');
  const fail = (message: string): never => {
    throw new PlanError('invalid-config', message);
  };

  if (memory !== 0 && memory < MIN_MEMORY) fail('Minimum memory limit allowed is 6MB');
  if (memory === 0 && swap > 0) fail('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap > 0 && swap < memory) fail('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory > 0 && reservation > 0 && memory < reservation) {
    fail('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (reservation > 0 && reservation < MIN_MEMORY) fail('Minimum memory reservation allowed is 6MB');
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
  if (reservation > 0) limits.memoryReservationBytes = reservation;
  if (pids > 0) limits.pidsMax = pids;
  if (nano > 0) {
    limits.cpuPeriodUs = 100_000;
    limits.cpuQuotaUs = Math.max(1000, Math.floor((nano * 100_000) / 1e9));
  } else {
    if (quota > 0) limits.cpuQuotaUs = quota;
    if (period > 0) limits.cpuPeriodUs = period;
  }
  if (shares > 0) limits.cpuShares = shares;
  const cpusetCpus = cpuset(host.CpusetCpus, 'cpus', hostCpus);
  if (cpusetCpus !== undefined) limits.cpusetCpus = cpusetCpus;
  const cpusetMems = cpuset(host.CpusetMems, 'mems', undefined);
  if (cpusetMems !== undefined) limits.cpusetMems = cpusetMems;
  return limits;
}

/** A cpuset list ("0-2,4"), checked with dockerd's messages; CPUs must exist on this host. */
function cpuset(value: string | null | undefined, what: 'cpus' | 'mems', hostCpus: number | undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ranges = value.split(',').map((part) => /^(\d+)(?:-(\d+))?$/.exec(part));
  if (ranges.some((m) => m === null || (m[2] !== undefined && Number(m[2]) < Number(m[1])))) {
    throw new PlanError('invalid-config', `Invalid value ${value} for cpuset ${what}`);
  }
  const highest = Math.max(...ranges.map((m) => Number(m?.[2] ?? m?.[1])));
  if (hostCpus !== undefined && highest >= hostCpus) {
    throw new PlanError('invalid-config', `Requested CPUs are not available - requested ${value}, available: ${hostCpus === 1 ? '0' : `0-${hostCpus - 1}`}`);
  }
  return value;
}
