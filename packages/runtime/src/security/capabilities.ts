// Capabilities as Docker resolves them (moby oci/caps): names with or
// without CAP_, any case, "ALL"; drop ALL then add; privileged gets all.
import { readFileSync } from 'node:fs';
import { SecurityConfigError } from '../errors.js';
import { defaultCapabilities } from '../plan/defaults.js';
import type { CapabilitySet } from '../plan/types.js';

/** linux/capability.h, by number. */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

const NUMBER_OF = new Map(CAPABILITY_NAMES.map((name, i) => [name, i]));

/** The last capability this kernel knows (`/proc/sys/kernel/cap_last_cap`); the highest berth knows when unreadable. */
export const KNOWN_LAST_CAP = CAPABILITY_NAMES.length - 1;

/** A set of capability names as the plan carries it (names, numbers and the bit mask the init gets as `--caps`). */
export function capabilitySet(names: readonly string[]): CapabilitySet {
  const unique = [...new Set(names)];
  const numbers = unique.map((n) => {
    const v = NUMBER_OF.get(n);
    if (v === undefined) throw new TypeError(`not a capability: ${n}`);
    return v;
  });
  // 2**n rather than 1 << n: capabilities go up to bit 40.
  const mask = numbers.reduce((acc, n) => acc + 2 ** n, 0);
  return { names: unique, numbers, mask };
}

/** Every capability this kernel supports, in number order (what `--privileged` and `--cap-add ALL` give). */
export function allCapabilities(lastCap: number): string[] {
  return CAPABILITY_NAMES.slice(0, Math.min(lastCap, KNOWN_LAST_CAP) + 1);
}

/**
 * moby's NormalizeLegacyCapabilities + ValidateCapabilities: "ALL" in any
 * case stays "ALL"; other names are upper-cased and get CAP_ in front.
 */
export function normalizeCapabilities(list: readonly string[], field: 'CapAdd' | 'CapDrop', lastCap: number): string[] {
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') {
      throw new SecurityConfigError('invalid-capability', `invalid ${field}: expected a list of capability names`, field);
    }
    const upper = raw.toUpperCase();
    if (upper === 'ALL') {
      out.push('ALL');
      continue;
    }
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    const number = NUMBER_OF.get(name);
    if (number === undefined) {
      throw new SecurityConfigError('invalid-capability', `invalid ${field}: unknown capability: "${name}"`, field);
    }
    if (number > lastCap) {
      throw new SecurityConfigError(
        'invalid-capability',
        `invalid ${field}: capability not supported by your kernel or not available in the current environment: "${name}"`,
        field,
      );
    }
    out.push(name);
  }
  return out;
}

export interface CapabilityRequest {
  CapAdd?: readonly string[] | null;
  CapDrop?: readonly string[] | null;
  Privileged?: boolean | null;
}

/**
 * moby's TweakCapabilities: privileged gets every capability; with nothing
 * to add or drop the default set; `CapAdd` ALL gives all but the dropped;
 * `CapDrop` ALL gives only the added; otherwise drop from the default set,
 * then add. Both lists are validated even when privileged.
 */
export function resolveCapabilities(req: CapabilityRequest, lastCap: number): CapabilitySet {
  const drops = normalizeCapabilities(req.CapDrop ?? [], 'CapDrop', lastCap);
  const adds = normalizeCapabilities(req.CapAdd ?? [], 'CapAdd', lastCap);
  const all = allCapabilities(lastCap);
  if (req.Privileged === true) return capabilitySet(all);
  const basics = defaultCapabilities().names;
  if (adds.length === 0 && drops.length === 0) return capabilitySet(basics);
  if (adds.includes('ALL')) return capabilitySet(all.filter((c) => !drops.includes(c)));
  if (drops.includes('ALL')) return capabilitySet(adds);
  return capabilitySet([...basics.filter((c) => !drops.includes(c)), ...adds]);
}

/**
 * The capabilities this process can hand on: its bounding set
 * (`/proc/self/status` CapBnd). undefined when unreadable.
 */
export function readBoundingSet(statusText?: string): Set<number> | undefined {
  let text = statusText;
  try {
    text ??= readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const hex = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  if (hex === undefined) return undefined;
  const bits = BigInt(`0x${hex}`);
  const out = new Set<number>();
  for (let n = 0; n <= KNOWN_LAST_CAP; n++) if ((bits >> BigInt(n)) & 1n) out.add(n);
  return out;
}

/**
 * A set cut down to what `available` holds. `--privileged` and `--cap-add
 * ALL` mean every capability the daemon itself has: where the daemon runs
 * without some (a sandbox without CAP_SYS_RESOURCE, say), runc's capset
 * would fail with EPERM and no privileged container could start at all.
 */
export function withinBoundingSet(set: CapabilitySet, available: ReadonlySet<number> | undefined): CapabilitySet {
  if (available === undefined) return set;
  return capabilitySet(set.names.filter((_, i) => available.has(set.numbers[i] ?? -1)));
}
