// One pure resolver for a create request's security fields: what Docker
// validates (with its messages) and defaults, as plain data for the plan.
import { readFileSync } from 'node:fs';
import { SecurityConfigError } from '../errors.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../plan/defaults.js';
import { KNOWN_LAST_CAP, resolveCapabilities } from './capabilities.js';
import { parseSecurityOpt } from './security-opt.js';
import type { ResolvedSecurity, SecurityContext, SecurityHostConfig, Sysctl, Ulimit } from './types.js';

/**
 * Resolves `Privileged`, `CapAdd`/`CapDrop`, `SecurityOpt`, `MaskedPaths`/
 * `ReadonlyPaths`, `GroupAdd`, `OomScoreAdj`, `Ulimits` and `Sysctls`.
 * Throws SecurityConfigError (an invalid parameter: 400) with Docker's
 * message for anything Docker refuses. Pure: call it once at create and
 * keep the result in the container's record.
 */
export function resolveSecurity(host: SecurityHostConfig, context: SecurityContext): ResolvedSecurity {
  const privileged = host.Privileged === true;
  const capabilities = resolveCapabilities(host, context.lastCap);
  const opts = parseSecurityOpt(list(host.SecurityOpt, 'SecurityOpt'));
  const noPaths = privileged || opts.systemPathsUnconfined;
  return {
    privileged,
    capabilities,
    // moby: a privileged container runs without seccomp whatever profile it names.
    seccomp: privileged ? { kind: 'unconfined' } : opts.seccomp,
    noNewPrivileges: opts.noNewPrivileges ?? context.daemonNoNewPrivileges === true,
    maskedPaths: noPaths ? [] : [...(pathList(host.MaskedPaths, 'MaskedPaths') ?? DEFAULT_MASKED_PATHS)],
    readonlyPaths: noPaths ? [] : [...(pathList(host.ReadonlyPaths, 'ReadonlyPaths') ?? DEFAULT_READONLY_PATHS)],
    groupAdd: groupAdd(list(host.GroupAdd, 'GroupAdd')),
    oomScoreAdj: oomScoreAdj(host.OomScoreAdj),
    ulimits: ulimits(host.Ulimits),
    sysctls: sysctls(host),
  };
}

/** The kernel's last capability (`/proc/sys/kernel/cap_last_cap`), for `SecurityContext.lastCap`. */
export function readLastCap(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    return Number.isInteger(n) && n >= 0 ? Math.min(n, KNOWN_LAST_CAP) : KNOWN_LAST_CAP;
  } catch {
    return KNOWN_LAST_CAP;
  }
}

function list(v: readonly string[] | null | undefined, field: string): readonly string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw new SecurityConfigError(field === 'GroupAdd' ? 'invalid-group-add' : 'invalid-security-opt', `invalid HostConfig.${field}: expected a list of strings`, field);
  }
  return v;
}

function pathList(v: readonly string[] | null | undefined, field: 'MaskedPaths' | 'ReadonlyPaths'): readonly string[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !s.startsWith('/'))) {
    throw new SecurityConfigError('invalid-security-opt', `invalid HostConfig.${field}: expected a list of absolute paths`, field);
  }
  return v;
}

/** Group names go to the stub as a comma list and are looked up in the container's /etc/group. */
function groupAdd(groups: readonly string[]): string[] {
  for (const g of groups) {
    if (g === '' || /[,:\s]/.test(g) || (/^\d+$/.test(g) && Number(g) > 0xfffffffe)) {
      throw new SecurityConfigError('invalid-group-add', `invalid GroupAdd entry ${JSON.stringify(g)}: expected a group name or id`, 'GroupAdd');
    }
  }
  return [...groups];
}

function oomScoreAdj(v: number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new SecurityConfigError('invalid-oom-score-adj', 'invalid HostConfig.OomScoreAdj: expected an integer', 'OomScoreAdj');
  }
  if (v < -1000 || v > 1000) {
    throw new SecurityConfigError('invalid-oom-score-adj', `Invalid value ${v}, range for oom score adj is [-1000, 1000]`, 'OomScoreAdj');
  }
  return v;
}

/** go-units' ulimit names (RLIMIT_*). */
export const ULIMIT_NAMES: readonly string[] = [
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime',
  'sigpending', 'stack',
];

function ulimits(v: SecurityHostConfig['Ulimits']): Ulimit[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new SecurityConfigError('invalid-ulimit', 'invalid HostConfig.Ulimits: expected a list', 'Ulimits');
  const byName = new Map<string, Ulimit>();
  for (const u of v as ReadonlyArray<{ Name?: unknown; Soft?: unknown; Hard?: unknown }>) {
    const name = typeof u?.Name === 'string' ? u.Name : '';
    if (!ULIMIT_NAMES.includes(name)) throw new SecurityConfigError('invalid-ulimit', `invalid ulimit type: ${name}`, 'Ulimits');
    const soft = u.Soft ?? 0;
    const hard = u.Hard ?? 0;
    if (typeof soft !== 'number' || typeof hard !== 'number' || !Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft < -1 || hard < -1) {
      throw new SecurityConfigError('invalid-ulimit', `invalid ulimit ${name}: Soft and Hard must be integers (-1 for unlimited)`, 'Ulimits');
    }
    // go-units compares the signed values; -1 (unlimited) as the hard limit always passes.
    if (hard !== -1 && (soft === -1 || soft > hard)) {
      throw new SecurityConfigError('invalid-ulimit', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`, 'Ulimits');
    }
    byName.delete(name); // the last entry for a name wins, in its own place
    byName.set(name, { name, soft, hard });
  }
  return [...byName.values()];
}

/** runc's list of IPC-namespaced sysctls besides `fs.mqueue.*`. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** runc's convertSysctlVariableToDotsSeparator: `net/ipv4/conf/eth0.100/x` -> `net.ipv4.conf.eth0/100.x`. */
function dotted(key: string): string {
  const slash = key.indexOf('/');
  const dot = key.indexOf('.');
  if (slash === -1 || (dot !== -1 && dot < slash)) return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * runc's sysctl validation (libcontainer/configs/validate), with its
 * messages: IPC sysctls need a private IPC namespace, `net.*` a network
 * namespace that is not the host's, `kernel.domainname` a private UTS
 * namespace; nothing else is namespaced.
 */
function sysctls(host: SecurityHostConfig): Sysctl[] {
  const v = host.Sysctls;
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw new SecurityConfigError('invalid-sysctl', 'invalid HostConfig.Sysctls: expected an object', 'Sysctls');
  const hostIpc = host.IpcMode === 'host';
  const hostNet = host.NetworkMode === 'host';
  const hostUts = host.UTSMode === 'host';
  const out: Sysctl[] = [];
  for (const [raw, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new SecurityConfigError('invalid-sysctl', `invalid sysctl ${JSON.stringify(raw)}: the value must be a string`, 'Sysctls');
    const key = dotted(raw);
    // The stub writes /proc/sys/<key with . as />: no empty or parent segments, no '='.
    if (!/^[A-Za-z0-9_\-./]+$/.test(key) || key.split('.').some((s) => s === '' || s.split('/').some((p) => p === '' || p === '..'))) {
      throw new SecurityConfigError('invalid-sysctl', `sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`, 'Sysctls');
    }
    const reject = (message: string): never => {
      throw new SecurityConfigError('invalid-sysctl', message, 'Sysctls');
    };
    if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
      if (hostIpc) reject(`sysctl ${JSON.stringify(key)} is not allowed in the hosts ipc namespace`);
    } else if (key.startsWith('net.')) {
      if (hostNet) reject(`sysctl ${JSON.stringify(key)} not allowed in host network namespace`);
    } else if (!hostUts && key === 'kernel.domainname') {
      // namespaced, and the API has no field of its own for it
    } else if (!hostUts && key === 'kernel.hostname') {
      reject(`sysctl ${JSON.stringify(key)} is not allowed as it conflicts with the OCI "hostname" field`);
    } else {
      reject(`sysctl ${JSON.stringify(key)} is not in a separate kernel namespace`);
    }
    out.push({ key, value });
  }
  return out;
}
