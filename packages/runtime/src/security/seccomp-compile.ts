// A seccomp profile + a capability set -> raw BPF, through libseccomp, and
// a cache of compiled filters under <root>/seccomp so a launch only looks
// one up: the stub loads the file with seccomp(2).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync, constants as fsc } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { endianness, release } from 'node:os';
import { join } from 'node:path';
import { SeccompCompileError } from '../errors.js';
import {
  capabilitiesMentioned, decodeSeccompProfile, defaultProfileText, defaultSeccompProfile, profileDigest, selectSeccompRules,
  type SeccompProfile, type SeccompTarget,
} from './seccomp-profile.js';
import { AUDIT_ARCH_X86_64, SCMP_ARCH_X32_TOKEN, enosysStub, type EnosysSection } from './enosys-stub.js';
import type { SeccompChoice } from './types.js';

// The binding opens libseccomp.so.2 on its first call: nothing that never compiles a profile maps it.
import * as seccompBinding from '@berth/syscall/seccomp';

type SeccompModule = typeof seccompBinding;

const EPERM = 1;

function actionValue(m: SeccompModule, action: string, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_ALLOW': return m.SCMP_ACT_ALLOW;
    case 'SCMP_ACT_ERRNO': return m.scmpActErrno(errnoRet ?? EPERM);
    case 'SCMP_ACT_TRACE': return m.scmpActTrace(errnoRet ?? EPERM);
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return m.SCMP_ACT_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return m.SCMP_ACT_KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return m.SCMP_ACT_TRAP;
    case 'SCMP_ACT_LOG': return m.SCMP_ACT_LOG;
    default: throw new SeccompCompileError(`string ${action} is not a valid action for seccomp`);
  }
}

/** Part of every cache key: bump it when the compiled program changes for the same inputs. */
const COMPILER_REVISION = 2;

/** Docker's SCMP_ARCH_X86_64 -> libseccomp's "x86_64". */
const libArchName = (scmp: string): string => scmp.slice('SCMP_ARCH_'.length).toLowerCase();

/** This machine as the profile sees it. */
export function nativeTarget(capabilities: readonly string[]): SeccompTarget {
  const goArch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? 'x86' : process.arch;
  const arches: Record<string, string> = {
    amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', x86: 'SCMP_ARCH_X86', arm: 'SCMP_ARCH_ARM', s390x: 'SCMP_ARCH_S390X',
    riscv64: 'SCMP_ARCH_RISCV64', ppc64: 'SCMP_ARCH_PPC64LE',
  };
  const arch = arches[goArch] ?? `SCMP_ARCH_${goArch.toUpperCase()}`;
  return { arch, goArch, capabilities, kernel: release() };
}

/**
 * Compiles a profile for a container with `capabilities` into the raw BPF
 * program (an array of 8-byte `struct sock_filter`), as runc would load it:
 * names this libseccomp does not know are skipped (runc does the same), a
 * group with two comparisons on one argument becomes one rule per
 * comparison (runc's rule for "OR" on one argument), and runc's -ENOSYS
 * stub goes in front (see enosys-stub.ts).
 */
export async function compileSeccompProfile(profile: SeccompProfile, capabilities: readonly string[], target?: SeccompTarget): Promise<Buffer> {
  const m = seccompBinding;
  const selected = selectSeccompRules(profile, target ?? nativeTarget(capabilities));
  const filter = m.SeccompFilter.create(actionValue(m, selected.defaultAction, selected.defaultErrnoRet));
  try {
    // runc leaves no_new_privs to the runtime: never let libseccomp set it.
    filter.setAttr(m.SCMP_FLTATR_CTL_NNP, 0);
    const tokens: number[] = [];
    for (const arch of selected.arches) {
      const token = m.resolveArchName(libArchName(arch));
      if (token === 0) continue; // LOONGARCH64 and the like: unknown to this libseccomp, never native here
      filter.addArch(token);
      tokens.push(token);
    }
    if (tokens.length === 0) tokens.push(m.nativeArch());
    const defaultValue = actionValue(m, selected.defaultAction, selected.defaultErrnoRet);
    for (const rule of selected.rules) {
      const nr = m.resolveSyscallName(rule.name);
      if (nr === m.NR_SCMP_ERROR) continue;
      const action = actionValue(m, rule.action, rule.errnoRet);
      // libseccomp refuses a rule whose action is the default one; it would change nothing.
      if (action === defaultValue) continue;
      const cmps = rule.args.map((a) => ({
        arg: a.index,
        op: m.SCMP_CMP[a.op as keyof typeof m.SCMP_CMP],
        datumA: BigInt(a.value),
        datumB: BigInt(a.valueTwo ?? 0),
      }));
      const perIndex = new Map<number, number>();
      for (const c of cmps) perIndex.set(c.arg, (perIndex.get(c.arg) ?? 0) + 1);
      if ([...perIndex.values()].some((n) => n > 1)) {
        for (const c of cmps) filter.addRule(action, nr, [c], rule.name);
      } else {
        filter.addRule(action, nr, cmps, rule.name);
      }
    }
    const body = filter.exportBpf();
    // runc's rule: no stub when the default action lets calls through anyway.
    if (['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(selected.defaultAction)) return body;
    if (endianness() !== 'LE') throw new SeccompCompileError('failed to compile the seccomp profile: the ENOSYS stub is written for little-endian machines');
    return Buffer.concat([enosysStub(enosysSections(m, tokens, selected.rules.map((r) => r.name))), body]);
  } catch (err) {
    if (err instanceof SeccompCompileError) throw err;
    throw new SeccompCompileError(`failed to compile the seccomp profile: ${err instanceof Error ? err.message : String(err)}`, err);
  } finally {
    filter.release();
  }
}

/** Per kernel architecture of the filter, the highest syscall number among the profile's rules (runc's findLastSyscalls). */
function enosysSections(m: SeccompModule, tokens: readonly number[], names: readonly string[]): EnosysSection[] {
  const highest = (token: number): number | undefined => {
    let max: number | undefined;
    for (const name of new Set(names)) {
      const nr = m.resolveSyscallNameForArch(token, name);
      if (nr >= 0 && (max === undefined || nr > max)) max = nr;
    }
    return max;
  };
  const sections = new Map<number, EnosysSection>();
  for (const token of tokens) {
    const audit = token === SCMP_ARCH_X32_TOKEN ? AUDIT_ARCH_X86_64 : token;
    const section = sections.get(audit) ?? { auditArch: audit };
    const max = highest(token);
    if (max !== undefined) {
      if (token === SCMP_ARCH_X32_TOKEN) section.maxX32 = max;
      else section.max = max;
    }
    sections.set(audit, section);
  }
  return [...sections.values()].filter((s) => s.max !== undefined || s.maxX32 !== undefined);
}

/**
 * Compiled filters under `<root>/seccomp/<sha256>.bpf`, keyed by the
 * profile's text, the capabilities its rules depend on, the architecture,
 * the kernel (for `minKernel`) and libseccomp's version. A file is written
 * once under a temporary name and renamed into place. After the first launch
 * with a given profile and capability set, a launch costs a map lookup.
 */
export class SeccompCache {
  readonly dir: string;
  /** "<profile digest>\n<relevant capabilities>" -> the file. */
  readonly #known = new Map<string, string>();
  readonly #profiles = new Map<string, { profile: SeccompProfile; mentioned: Set<string> }>();
  readonly #digests = new Map<string, string>();
  #defaultDigest: string | undefined;

  constructor(root: string) {
    this.dir = join(root, 'seccomp');
  }

  /**
   * The BPF file for a container's seccomp choice and capabilities, compiling
   * it the first time; null when the container runs unconfined.
   */
  async pathFor(choice: SeccompChoice, capabilities: readonly string[]): Promise<string | null> {
    if (choice.kind === 'unconfined') return null;
    const text = choice.kind === 'default' ? defaultProfileText() : choice.profile;
    const digest = this.#digest(text);
    const entry = this.#profileFor(digest, text);
    const relevant = capabilities.filter((c) => entry.mentioned.has(c)).sort().join(',');
    const memo = `${digest}\n${relevant}`;
    const known = this.#known.get(memo);
    if (known !== undefined) return known;
    const t = nativeTarget(capabilities);
    const key = createHash('sha256')
      .update(`berth seccomp compiler ${COMPILER_REVISION}\n${digest}\n${relevant}\n${t.arch}\n${t.kernel}\nlibseccomp ${seccompBinding.libseccompVersion()}\n`)
      .digest('hex');
    const file = join(this.dir, `${key}.bpf`);
    if (!exists(file)) this.#write(file, await compileSeccompProfile(entry.profile, capabilities));
    this.#known.set(memo, file);
    return file;
  }

  /** A profile's digest, remembered: the default's once, a custom one per distinct text (a few kB to hash). */
  #digest(text: string): string {
    if (text === defaultProfileText()) return (this.#defaultDigest ??= profileDigest(text));
    let d = this.#digests.get(text);
    if (d === undefined) {
      if (this.#digests.size >= 64) this.#digests.clear();
      d = profileDigest(text);
      this.#digests.set(text, d);
    }
    return d;
  }

  #profileFor(digest: string, text: string): { profile: SeccompProfile; mentioned: Set<string> } {
    let entry = this.#profiles.get(digest);
    if (entry === undefined) {
      const profile = text === defaultProfileText() ? defaultSeccompProfile() : decodeSeccompProfile(text);
      entry = { profile, mentioned: capabilitiesMentioned(profile) };
      this.#profiles.set(digest, entry);
    }
    return entry;
  }

  #write(file: string, bpf: Buffer): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      try {
        let off = 0;
        while (off < bpf.length) off += writeSync(fd, bpf, off, bpf.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new SeccompCompileError(`failed to write the compiled seccomp filter ${file}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
