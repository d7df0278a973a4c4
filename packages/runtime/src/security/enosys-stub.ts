// runc's -ENOSYS stub, in front of the filter libseccomp exports. A
// syscall newer than every call the profile names (and so likely newer than
// this libseccomp: statmount, listmount, mseal ... on Debian 12's 2.5.4)
// would otherwise get the default EPERM, and libcs fall back to an older
// call only on ENOSYS. runc answers those with ENOSYS, so Docker containers
// see ENOSYS there; so do berth's. Skipped when the default action allows.

/** Classic BPF opcodes (linux/filter.h, linux/bpf_common.h). */
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JSET_K = 0x45;
const RET_K = 0x06;

/** Offsets in `struct seccomp_data`. */
const DATA_NR = 0;
const DATA_ARCH = 4;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
/** libseccomp's token for x32: x86_64 in the kernel, with this bit set in the syscall number. */
export const SCMP_ARCH_X32_TOKEN = 0x4000003e;
export const X32_SYSCALL_BIT = 0x40000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const ENOSYS = 38;

/** For one kernel architecture: the highest syscall number the profile names, per ABI. */
export interface EnosysSection {
  /** AUDIT_ARCH_* as the kernel reports it in seccomp_data.arch. */
  auditArch: number;
  /** Highest number for calls without the x32 bit (absent: no such ABI in the filter). */
  max?: number;
  /** x86_64 only: highest x32 number (with X32_SYSCALL_BIT). */
  maxX32?: number;
}

type Label = string;
interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  label?: Label;
}

/**
 * The stub: for each architecture, load the syscall number and jump to
 * "ENOSYS" when it is above that architecture's highest; everything else
 * falls through to libseccomp's program, which follows it unchanged (its
 * jumps are relative, and it loads the architecture itself).
 */
export function enosysStub(sections: readonly EnosysSection[]): Buffer {
  const prog: Insn[] = [{ code: LD_W_ABS, k: DATA_ARCH }];
  sections.forEach((s, i) => {
    const next = i + 1 < sections.length ? `arch${i + 1}` : 'body';
    const here = `sec${i}`;
    prog.push({ code: JEQ_K, k: s.auditArch, jt: here, jf: next, ...(i > 0 ? { label: `arch${i}` } : {}) });
    prog.push({ code: LD_W_ABS, k: DATA_NR, label: here });
    if (s.maxX32 !== undefined || s.auditArch === AUDIT_ARCH_X86_64) {
      // x86_64 and x32 share the audit arch: the number's bit 30 tells them apart.
      prog.push({ code: JSET_K, k: X32_SYSCALL_BIT, jt: s.maxX32 !== undefined ? `x32_${i}` : 'body', jf: s.max !== undefined ? `n_${i}` : 'body' });
      if (s.max !== undefined) prog.push({ code: JGT_K, k: s.max, jt: 'enosys', jf: 'body', label: `n_${i}` });
      if (s.maxX32 !== undefined) prog.push({ code: JGT_K, k: s.maxX32, jt: 'enosys', jf: 'body', label: `x32_${i}` });
    } else if (s.max !== undefined) {
      prog.push({ code: JGT_K, k: s.max, jt: 'enosys', jf: 'body' });
    } else {
      prog.push({ code: JEQ_K, k: 0, jt: 'body', jf: 'body' });
    }
  });
  prog.push({ code: RET_K, k: SECCOMP_RET_ERRNO | ENOSYS, label: 'enosys' });
  const at = new Map<Label, number>();
  prog.forEach((insn, i) => {
    if (insn.label !== undefined) at.set(insn.label, i);
  });
  at.set('body', prog.length);
  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((insn, i) => {
    const rel = (l: Label | undefined): number => {
      if (l === undefined) return 0;
      const target = at.get(l);
      if (target === undefined) throw new Error(`enosys stub: no label ${l}`);
      const off = target - i - 1;
      if (off < 0 || off > 255) throw new Error(`enosys stub: jump to ${l} out of range`);
      return off;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(rel(insn.jt), i * 8 + 2);
    out.writeUInt8(rel(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** One classic BPF instruction, decoded (for tests and checks). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function decodeBpf(bpf: Buffer): SockFilter[] {
  const out: SockFilter[] = [];
  for (let off = 0; off + 8 <= bpf.length; off += 8) {
    out.push({ code: bpf.readUInt16LE(off), jt: bpf.readUInt8(off + 2), jf: bpf.readUInt8(off + 3), k: bpf.readUInt32LE(off + 4) });
  }
  return out;
}
