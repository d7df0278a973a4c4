// Docker's seccomp profile format (moby profiles/seccomp types) as data:
// decoding with Docker's errors, and the selection of the rules that apply
// to one container (architecture, capabilities, kernel version), exactly as
// moby's setupSeccomp does before it hands the result to runc.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { SecurityConfigError } from '../errors.js';

/**
 * Docker's default profile: moby/profiles `seccomp/default.json` as vendored
 * in moby/moby at commit 4ef2385648a86d488e8a84d13111994c79043be2
 * (github.com/moby/profiles/seccomp v0.1.x, the profile of moby 28.x: no
 * io_uring since moby 25.0, AF_VSOCK sockets refused), byte for byte.
 */
export const DEFAULT_PROFILE_SOURCE = 'moby/moby@4ef2385648a86d488e8a84d13111994c79043be2 vendor/github.com/moby/profiles/seccomp/default.json';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface SeccompFilterRule {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: SeccompFilterRule;
  excludes?: SeccompFilterRule;
}

export interface SeccompArchMap {
  architecture: string;
  subArchitectures: string[] | null;
}

/** A decoded profile (moby's `seccomp.Seccomp`), with `name` folded into `names`. */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: SeccompArchMap[];
  syscalls: SeccompSyscall[];
}

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG',
] as const;
export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;

let defaultText: string | undefined;

/** The default profile's JSON text, read once from the package. */
export function defaultProfileText(): string {
  defaultText ??= readFileSync(new URL('../../profiles/seccomp-default.json', import.meta.url), 'utf8');
  return defaultText;
}

let defaultProfileValue: SeccompProfile | undefined;

/** The default profile, decoded once. */
export function defaultSeccompProfile(): SeccompProfile {
  defaultProfileValue ??= decodeSeccompProfile(defaultProfileText());
  return defaultProfileValue;
}

/** sha256 of a profile's text: the first half of its compiled filter's cache key. */
export function profileDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const fail = (message: string): never => {
  throw new SecurityConfigError('invalid-seccomp-profile', `Decoding seccomp profile failed: ${message}`, 'SecurityOpt');
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Go's encoding/json type error, which Docker returns verbatim. */
function typeError(v: unknown, field: string, goType: string): never {
  return fail(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${field} of type ${goType}`);
}

function str(v: unknown, field: string, goType = 'string'): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') typeError(v, field, goType);
  return v as string;
}

function uint(v: unknown, field: string, goType: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') typeError(v, field, goType);
  const n = v as number;
  if (!Number.isInteger(n) || n < 0) fail(`json: cannot unmarshal number ${n} into Go struct field ${field} of type ${goType}`);
  return n;
}

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) typeError(v, field, '[]string');
  return (v as unknown[]).map((s) => str(s, field) ?? '');
}

function object(v: unknown, field: string, goType: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) typeError(v, field, goType);
  return v as Record<string, unknown>;
}

function filterRule(v: unknown, field: string): SeccompFilterRule | undefined {
  const o = object(v, field, 'seccomp.Filter');
  if (o === undefined) return undefined;
  const out: SeccompFilterRule = {};
  const caps = strings(o['caps'], `${field}.caps`);
  const arches = strings(o['arches'], `${field}.arches`);
  const minKernel = str(o['minKernel'], `${field}.minKernel`, 'seccomp.KernelVersion');
  if (caps !== undefined) out.caps = caps;
  if (arches !== undefined) out.arches = arches;
  if (minKernel !== undefined) {
    if (!/^\d+\.\d+(\.\d+)?$/.test(minKernel)) fail(`invalid kernel version: ${minKernel}`);
    out.minKernel = minKernel;
  }
  return out;
}

/**
 * Decodes a profile the way moby's `seccomp.LoadProfile` does, refusing
 * what Docker (or runc, at start) refuses: a JSON or type error, both
 * `architectures` and `archMap`, both `name` and `names`, an unknown
 * action, operator or argument index. What berth cannot do is refused too:
 * `listenerPath` (SCMP_ACT_NOTIFY) and `flags`.
 */
export function decodeSeccompProfile(text: string): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const o = object(raw, 'Seccomp', 'seccomp.Seccomp') ?? fail('the profile is null');
  const defaultAction = str(o['defaultAction'], 'Seccomp.defaultAction', 'specs.LinuxSeccompAction') ?? '';
  checkAction(defaultAction);
  const profile: SeccompProfile = { defaultAction, syscalls: [] };
  const defaultErrnoRet = uint(o['defaultErrnoRet'], 'Seccomp.defaultErrnoRet', 'uint');
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;

  const architectures = strings(o['architectures'], 'Seccomp.architectures');
  const archMapRaw = o['archMap'];
  if (archMapRaw !== undefined && archMapRaw !== null && !Array.isArray(archMapRaw)) typeError(archMapRaw, 'Seccomp.archMap', '[]seccomp.Architecture');
  const archMap = ((archMapRaw ?? []) as unknown[]).map((a, i) => {
    const e = object(a, 'Seccomp.archMap', 'seccomp.Architecture') ?? {};
    const architecture = str(e['architecture'], 'Seccomp.archMap.architecture', 'specs.Arch') ?? fail(`archMap[${i}] has no architecture`);
    return { architecture, subArchitectures: strings(e['subArchitectures'], 'Seccomp.archMap.subArchitectures') ?? null };
  });
  if ((architectures?.length ?? 0) > 0 && archMap.length > 0) {
    fail("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  for (const a of [...(architectures ?? []), ...archMap.flatMap((m) => [m.architecture, ...(m.subArchitectures ?? [])])]) checkArch(a);
  if (architectures !== undefined && architectures.length > 0) profile.architectures = architectures;
  if (archMap.length > 0) profile.archMap = archMap;

  if (o['listenerPath'] !== undefined && o['listenerPath'] !== '') {
    throw new SecurityConfigError('invalid-unsupported-security-option', 'seccomp profile: listenerPath (SCMP_ACT_NOTIFY) is not supported by berth', 'SecurityOpt');
  }
  const flags = strings(o['flags'], 'Seccomp.flags');
  if (flags !== undefined && flags.length > 0) {
    throw new SecurityConfigError('invalid-unsupported-security-option', `seccomp profile: flags ${JSON.stringify(flags)} are not supported by berth`, 'SecurityOpt');
  }

  const callsRaw = o['syscalls'];
  if (callsRaw !== undefined && callsRaw !== null && !Array.isArray(callsRaw)) typeError(callsRaw, 'Seccomp.syscalls', '[]*seccomp.Syscall');
  for (const c of (callsRaw ?? []) as unknown[]) {
    const e = object(c, 'Seccomp.syscalls', 'seccomp.Syscall') ?? {};
    const name = str(e['name'], 'Seccomp.syscalls.name');
    const names = strings(e['names'], 'Seccomp.syscalls.names') ?? [];
    if (name !== undefined && name !== '' && names.length > 0) fail("use either 'name' or 'names'");
    const action = str(e['action'], 'Seccomp.syscalls.action', 'specs.LinuxSeccompAction') ?? '';
    checkAction(action);
    const call: SeccompSyscall = { names: name !== undefined && name !== '' ? [name] : names, action };
    const errnoRet = uint(e['errnoRet'], 'Seccomp.syscalls.errnoRet', 'uint');
    if (errnoRet !== undefined) call.errnoRet = errnoRet;
    const argsRaw = e['args'];
    if (argsRaw !== undefined && argsRaw !== null) {
      if (!Array.isArray(argsRaw)) typeError(argsRaw, 'Seccomp.syscalls.args', '[]*specs.LinuxSeccompArg');
      call.args = (argsRaw as unknown[]).map((a) => {
        const ao = object(a, 'Seccomp.syscalls.args', 'specs.LinuxSeccompArg') ?? {};
        const index = uint(ao['index'], 'Seccomp.syscalls.args.index', 'uint') ?? 0;
        if (index > 5) fail(`syscall argument index ${index} is out of range (0-5)`);
        const op = str(ao['op'], 'Seccomp.syscalls.args.op', 'specs.LinuxSeccompOperator') ?? '';
        if (!(SECCOMP_OPERATORS as readonly string[]).includes(op)) fail(`string ${op} is not a valid operator for seccomp`);
        const arg: SeccompArg = { index, value: uint(ao['value'], 'Seccomp.syscalls.args.value', 'uint64') ?? 0, op };
        const two = uint(ao['valueTwo'], 'Seccomp.syscalls.args.valueTwo', 'uint64');
        if (two !== undefined) arg.valueTwo = two;
        return arg;
      });
    }
    const comment = str(e['comment'], 'Seccomp.syscalls.comment');
    if (comment !== undefined) call.comment = comment;
    const includes = filterRule(e['includes'], 'Seccomp.syscalls.includes');
    const excludes = filterRule(e['excludes'], 'Seccomp.syscalls.excludes');
    if (includes !== undefined) call.includes = includes;
    if (excludes !== undefined) call.excludes = excludes;
    profile.syscalls.push(call);
  }
  return profile;
}

function checkAction(action: string): void {
  if (action === 'SCMP_ACT_NOTIFY') {
    throw new SecurityConfigError('invalid-unsupported-security-option', 'seccomp profile: SCMP_ACT_NOTIFY is not supported by berth', 'SecurityOpt');
  }
  if (!(SECCOMP_ACTIONS as readonly string[]).includes(action)) fail(`string ${action} is not a valid action for seccomp`);
}

/** The architectures libseccomp 2.5 knows, by Docker's SCMP_ARCH_* names. */
const ARCHES = new Set([
  'X86', 'X86_64', 'X32', 'ARM', 'AARCH64', 'MIPS', 'MIPS64', 'MIPS64N32', 'MIPSEL', 'MIPSEL64', 'MIPSEL64N32', 'PPC',
  'PPC64', 'PPC64LE', 'S390', 'S390X', 'PARISC', 'PARISC64', 'RISCV64', 'LOONGARCH64',
]);

function checkArch(name: string): void {
  if (!name.startsWith('SCMP_ARCH_') || !ARCHES.has(name.slice('SCMP_ARCH_'.length))) fail(`string ${name} is not a valid arch for seccomp`);
}

/** One rule to give libseccomp: an action for a syscall name when every comparison holds. */
export interface SelectedRule {
  name: string;
  action: string;
  errnoRet?: number;
  args: SeccompArg[];
}

/** What the selection depends on besides the profile. */
export interface SeccompTarget {
  /** Docker's SCMP_ARCH_* name of the native architecture (`SCMP_ARCH_X86_64`). */
  arch: string;
  /** Go's name for it, which `includes.arches` uses (`amd64`). */
  goArch: string;
  /** The container's capabilities (CAP_*). */
  capabilities: readonly string[];
  /** The running kernel's version (`6.1.0`). */
  kernel: string;
}

/** The selected filter: default action, architectures to add, rules in order. */
export interface SelectedFilter {
  defaultAction: string;
  defaultErrnoRet?: number;
  arches: string[];
  rules: SelectedRule[];
}

/** Compares "major.minor[.patch]" versions. */
export function kernelAtLeast(kernel: string, min: string): boolean {
  const parse = (v: string): number[] => (v.match(/^(\d+)\.(\d+)(?:\.(\d+))?/) ?? []).slice(1, 4).map((x) => Number(x ?? 0));
  const [a, b] = [parse(kernel), parse(min)];
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/**
 * moby's setupSeccomp: keep the native architecture's archMap entry (or the
 * `architectures` list), and the syscall groups whose `excludes` do not
 * match and whose `includes` all hold.
 */
export function selectSeccompRules(profile: SeccompProfile, target: SeccompTarget): SelectedFilter {
  const arches = profile.architectures !== undefined
    ? [...profile.architectures]
    : (profile.archMap ?? []).filter((m) => m.architecture === target.arch).flatMap((m) => [m.architecture, ...(m.subArchitectures ?? [])]);
  const caps = new Set(target.capabilities);
  const rules: SelectedRule[] = [];
  for (const call of profile.syscalls) {
    const ex = call.excludes;
    if (ex !== undefined) {
      if ((ex.arches ?? []).includes(target.goArch)) continue;
      if ((ex.caps ?? []).some((c) => caps.has(c))) continue;
      if (ex.minKernel !== undefined && kernelAtLeast(target.kernel, ex.minKernel)) continue;
    }
    const inc = call.includes;
    if (inc !== undefined) {
      if ((inc.arches ?? []).length > 0 && !(inc.arches ?? []).includes(target.goArch)) continue;
      if (!(inc.caps ?? []).every((c) => caps.has(c))) continue;
      if (inc.minKernel !== undefined && !kernelAtLeast(target.kernel, inc.minKernel)) continue;
    }
    for (const name of call.names) {
      const rule: SelectedRule = { name, action: call.action, args: [...(call.args ?? [])] };
      if (call.errnoRet !== undefined) rule.errnoRet = call.errnoRet;
      rules.push(rule);
    }
  }
  const out: SelectedFilter = { defaultAction: profile.defaultAction, arches, rules };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  return out;
}

/** The capabilities a profile's rules depend on: only these go into a compiled filter's cache key. */
export function capabilitiesMentioned(profile: SeccompProfile): Set<string> {
  const out = new Set<string>();
  for (const call of profile.syscalls) {
    for (const c of [...(call.includes?.caps ?? []), ...(call.excludes?.caps ?? [])]) out.add(c);
  }
  return out;
}
