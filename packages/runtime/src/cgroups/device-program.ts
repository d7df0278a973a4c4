/**
 * The cgroup v2 device controller is an eBPF program
 * (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the container's cgroup: for
 * each open or mknod of a device node the kernel runs it with
 * `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
 * and allows the access when it returns 1. This builds that program from
 * the plan's rules, as data (runc's devicefilter does the same): the rules
 * are evaluated last to first and the first match decides, which is the v1
 * list's "later rules override earlier ones"; no match denies.
 *
 * `Cgroups.create` loads it (bpf(2) BPF_PROG_LOAD) and attaches it to the
 * container's v2 cgroup (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE).
 */
import type { DeviceRule } from '../plan/devices.js';

/** One eBPF instruction (`struct bpf_insn`). */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcodes used here (linux/bpf.h, linux/bpf_common.h).
export const BPF_LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
export const BPF_ALU32_AND_K = 0x54;
export const BPF_ALU32_RSH_K = 0x74;
export const BPF_ALU32_MOV_K = 0xb4;
export const BPF_ALU32_MOV_X = 0xbc;
export const BPF_JMP_JNE_K = 0x55;
export const BPF_JMP_JNE_X = 0x5d;
export const BPF_JMP_EXIT = 0x95;

/** `bpf_cgroup_dev_ctx.access_type`: type in the low 16 bits, access in the high 16. */
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

function accessBits(access: string): number {
  return (access.includes('m') ? BPF_DEVCG_ACC_MKNOD : 0) | (access.includes('r') ? BPF_DEVCG_ACC_READ : 0) |
    (access.includes('w') ? BPF_DEVCG_ACC_WRITE : 0);
}

const ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

/** The device program for a rule list (r2 type, r3 access, r4 major, r5 minor). */
export function v2DeviceProgram(rules: readonly DeviceRule[]): BpfInsn[] {
  const prologue = [
    insn(BPF_LDX_MEM_W, 2, 1, 0, 0),
    insn(BPF_ALU32_AND_K, 2, 0, 0, 0xffff),
    insn(BPF_LDX_MEM_W, 3, 1, 0, 0),
    insn(BPF_ALU32_RSH_K, 3, 0, 0, 16),
    insn(BPF_LDX_MEM_W, 4, 1, 4, 0),
    insn(BPF_LDX_MEM_W, 5, 1, 8, 0),
  ];
  // Each block's conditional jumps skip to the next block: their offset is filled once the block's length is known.
  const blocks: BpfInsn[][] = [];
  for (const rule of [...rules].reverse()) {
    const block: BpfInsn[] = [];
    if (rule.type !== 'a') {
      block.push(insn(BPF_JMP_JNE_K, 2, 0, -1, rule.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
      const bits = accessBits(rule.access);
      if (bits !== ALL_ACCESS) {
        // Matches when every requested access is in the rule: (access & bits) == access.
        block.push(insn(BPF_ALU32_MOV_X, 1, 3, 0, 0), insn(BPF_ALU32_AND_K, 1, 0, 0, bits), insn(BPF_JMP_JNE_X, 1, 3, -1, 0));
      }
      if (rule.major !== '*') block.push(insn(BPF_JMP_JNE_K, 4, 0, -1, rule.major));
      if (rule.minor !== '*') block.push(insn(BPF_JMP_JNE_K, 5, 0, -1, rule.minor));
    }
    block.push(insn(BPF_ALU32_MOV_K, 0, 0, 0, rule.allow ? 1 : 0), insn(BPF_JMP_EXIT, 0, 0, 0, 0));
    block.forEach((ins, i) => {
      if (ins.off === -1) ins.off = block.length - 1 - i;
    });
    blocks.push(block);
    // An unconditional rule decides everything; later blocks could never run.
    if (rule.type === 'a') break;
  }
  const last = blocks.at(-1);
  const decided = last !== undefined && last.length === 2;
  return [...prologue, ...blocks.flat(), ...(decided ? [] : [insn(BPF_ALU32_MOV_K, 0, 0, 0, 0), insn(BPF_JMP_EXIT, 0, 0, 0, 0)])];
}

/** The program as the kernel takes it: 8 bytes per instruction, little-endian (x86-64, arm64). */
export function encodeBpf(program: readonly BpfInsn[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt8(ins.code, i * 8);
    out.writeUInt8((ins.src << 4) | (ins.dst & 0xf), i * 8 + 1);
    out.writeInt16LE(ins.off, i * 8 + 2);
    out.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return out;
}
