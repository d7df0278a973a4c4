/**
 * libseccomp through koffi: builds a seccomp filter and exports it as raw
 * BPF (the `struct sock_filter` array that seccomp(2) loads). Nothing here
 * loads a filter into this process; the container's stub does that.
 *
 * A module of its own, imported as `@berth/syscall/seccomp`, and
 * libseccomp.so.2 is opened on the first call: a process that never compiles
 * a profile never maps the library.
 */
import { createRequire } from 'node:module';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { SyscallError } from './errors.js';

const require = createRequire(import.meta.url);
const koffi = require('koffi') as typeof import('koffi');

/** libseccomp's `enum scmp_compare`. */
export const SCMP_CMP = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
} as const;
export type ScmpCompareName = keyof typeof SCMP_CMP;

/** libseccomp's filter attributes (`enum scmp_filter_attr`), the ones berth sets. */
export const SCMP_FLTATR_ACT_BADARCH = 2;
export const SCMP_FLTATR_CTL_NNP = 3;

/** Action values (seccomp.h). */
export const SCMP_ACT_KILL_PROCESS = 0x80000000;
export const SCMP_ACT_KILL_THREAD = 0x00000000;
export const SCMP_ACT_TRAP = 0x00030000;
export const SCMP_ACT_LOG = 0x7ffc0000;
export const SCMP_ACT_ALLOW = 0x7fff0000;
export const scmpActErrno = (errno: number): number => (0x00050000 | (errno & 0xffff)) >>> 0;
export const scmpActTrace = (msg: number): number => (0x7ff00000 | (msg & 0xffff)) >>> 0;

/** `__NR_SCMP_ERROR`: the name is unknown to this libseccomp. */
export const NR_SCMP_ERROR = -1;

/** One `struct scmp_arg_cmp`. */
export interface ScmpArgCmp {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- koffi's bound functions are untyped */
interface Lib {
  init: any; release: any; archAdd: any; archNative: any; archResolveName: any; resolveName: any; resolveNameArch: any; ruleAddArray: any;
  attrSet: any; exportBpf: any; memfdCreate: any; version: any;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

let lib: Lib | undefined;

function bind(): Lib {
  if (lib) return lib;
  const so = koffi.load('libseccomp.so.2');
  const libc = koffi.load('libc.so.6');
  koffi.struct('berth_scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64', datum_b: 'uint64' });
  koffi.struct('berth_scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  lib = {
    init: so.func('void *seccomp_init(uint32_t def_action)'),
    release: so.func('void seccomp_release(void *ctx)'),
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    archNative: so.func('uint32_t seccomp_arch_native(void)'),
    archResolveName: so.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    resolveName: so.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNameArch: so.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    ruleAddArray: so.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int count, const berth_scmp_arg_cmp *args)'),
    attrSet: so.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)'),
    version: so.func('const berth_scmp_version *seccomp_version(void)'),
    memfdCreate: libc.func('int memfd_create(const char *name, unsigned int flags)'),
  };
  return lib;
}

const MFD_CLOEXEC = 1;
const EEXIST = 17;

/** libseccomp returns -errno; turn it into berth's SyscallError. */
function check(call: string, rc: number, detail: string[] = []): void {
  if (rc < 0) throw new SyscallError(call, -rc, detail);
}

/**
 * A libseccomp filter context being built. Call `release()` when done (the
 * `using` form is not available on Node 20).
 */
export class SeccompFilter {
  #ctx: unknown;

  private constructor(ctx: unknown) {
    this.#ctx = ctx;
  }

  /** `seccomp_init(defaultAction)`. */
  static create(defaultAction: number): SeccompFilter {
    const ctx: unknown = bind().init(defaultAction >>> 0);
    if (ctx === null) throw new SyscallError('seccomp_init', 22, []);
    return new SeccompFilter(ctx);
  }

  #live(): unknown {
    if (this.#ctx === null) throw new Error('seccomp filter used after release');
    return this.#ctx;
  }

  /** `seccomp_arch_add`; an architecture already in the filter (the native one) is not an error. */
  addArch(token: number): void {
    const rc = bind().archAdd(this.#live(), token >>> 0) as number;
    if (rc === -EEXIST) return;
    check('seccomp_arch_add', rc, [String(token)]);
  }

  /** `seccomp_attr_set`. */
  setAttr(attr: number, value: number): void {
    check('seccomp_attr_set', bind().attrSet(this.#live(), attr, value >>> 0) as number, [String(attr)]);
  }

  /** `seccomp_rule_add_array`: `action` when syscall `nr` matches every comparison in `args`. */
  addRule(action: number, nr: number, args: readonly ScmpArgCmp[], name = String(nr)): void {
    const structs = args.map((a) => ({ arg: a.arg, op: a.op, datum_a: a.datumA, datum_b: a.datumB }));
    const rc = bind().ruleAddArray(this.#live(), action >>> 0, nr, structs.length, structs.length === 0 ? null : structs) as number;
    check('seccomp_rule_add', rc, [name]);
  }

  /** `seccomp_export_bpf` into a memfd, read back: the raw `struct sock_filter` array. */
  exportBpf(): Buffer {
    const l = bind();
    const fd = l.memfdCreate('berth-seccomp', MFD_CLOEXEC) as number;
    if (fd < 0) throw new SyscallError('memfd_create', koffi.errno(), []);
    try {
      check('seccomp_export_bpf', l.exportBpf(this.#live(), fd) as number);
      const size = fstatSync(fd).size;
      const out = Buffer.alloc(size);
      let off = 0;
      while (off < size) {
        const n = readSync(fd, out, off, size - off, off);
        if (n === 0) break;
        off += n;
      }
      return out.subarray(0, off);
    } finally {
      closeSync(fd);
    }
  }

  release(): void {
    if (this.#ctx === null) return;
    bind().release(this.#ctx);
    this.#ctx = null;
  }
}

/** `seccomp_syscall_resolve_name`: the native number, a negative pseudo number for another arch's call, or NR_SCMP_ERROR. */
export function resolveSyscallName(name: string): number {
  return bind().resolveName(name) as number;
}

/** `seccomp_syscall_resolve_name_arch`: the number on `archToken`, negative when that arch lacks it, NR_SCMP_ERROR when unknown. */
export function resolveSyscallNameForArch(archToken: number, name: string): number {
  return bind().resolveNameArch(archToken >>> 0, name) as number;
}

/** `seccomp_arch_resolve_name` ("x86_64", "x86", "x32" ...): the audit token, or 0 when unknown. */
export function resolveArchName(name: string): number {
  return bind().archResolveName(name) as number;
}

/** `seccomp_arch_native`. */
export function nativeArch(): number {
  return bind().archNative() as number;
}

/** The loaded libseccomp's version ("2.5.4"): part of a compiled filter's cache key. */
export function libseccompVersion(): string {
  const v = bind().version() as unknown;
  const d = koffi.decode(v, 'berth_scmp_version') as { major: number; minor: number; micro: number };
  return `${d.major}.${d.minor}.${d.micro}`;
}
