// The compiled default profile, run through a small classic-BPF interpreter
// (the subset libseccomp and the ENOSYS stub emit): which calls, arguments
// and ABIs each answer gets, without loading anything into a process.
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultCapabilities } from '../../src/plan/defaults.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, decodeBpf, enosysStub } from '../../src/security/enosys-stub.js';
import { compileSeccompProfile, decodeSeccompProfile, defaultSeccompProfile } from '../../src/security/index.js';

const ALLOW = 0x7fff0000;
const errno = (e: number): number => 0x00050000 | e;
const EPERM = errno(1);
const ENOSYS = errno(38);

/** Runs a seccomp BPF program on one seccomp_data (nr, arch, args). */
function run(bpf: Buffer, nr: number, arch: number, args: readonly number[] = []): number {
  const prog = decodeBpf(bpf);
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt(a), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0; pc < prog.length;) {
    const { code, jt, jf, k } = prog[pc]!;
    switch (code) {
      case 0x20: acc = data.readUInt32LE(k); pc++; break; // ld [k]
      case 0x54: acc = (acc & k) >>> 0; pc++; break; // and #k
      case 0x05: pc += 1 + k; break; // ja
      case 0x15: pc += 1 + (acc === k ? jt : jf); break; // jeq
      case 0x25: pc += 1 + (acc > k ? jt : jf); break; // jgt
      case 0x35: pc += 1 + (acc >= k ? jt : jf); break; // jge
      case 0x45: pc += 1 + ((acc & k) !== 0 ? jt : jf); break; // jset
      case 0x06: return k; // ret #k
      default: throw new Error(`opcode 0x${code.toString(16)} not in the interpreter`);
    }
  }
  throw new Error('fell off the end of the program');
}

describe('the compiled default profile (x86-64)', () => {
  let bpf: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    bpf = await compileSeccompProfile(defaultSeccompProfile(), defaultCapabilities().names);
  });
  const x64 = (nr: number, ...args: number[]): number => run(bpf, nr, AUDIT_ARCH_X86_64, args);

  it.skipIf(process.arch !== 'x64')('allows, denies and answers ENOSYS as Docker\'s runc does', () => {
    expect(x64(0)).toBe(ALLOW); // read
    expect(x64(250)).toBe(EPERM); // keyctl
    expect(x64(272, 0x10000000)).toBe(EPERM); // unshare(CLONE_NEWUSER)
    expect(x64(435)).toBe(ENOSYS); // clone3: glibc falls back to clone
    expect(x64(56, 0x01200011)).toBe(ALLOW); // clone as fork() calls it
    expect(x64(56, 0x10000000 | 0x11)).toBe(EPERM); // clone(CLONE_NEWUSER)
    expect(x64(41, 2)).toBe(ALLOW); // socket(AF_INET)
    expect(x64(41, 40)).toBe(EPERM); // socket(AF_VSOCK)
    expect(x64(135, 0xffffffff)).toBe(ALLOW); // personality(0xffffffff): query
    expect(x64(135, 1)).toBe(EPERM);
    expect(x64(425)).toBe(EPERM); // io_uring_setup
    expect(x64(452)).toBe(ALLOW); // fchmodat2: known to this libseccomp, allowed by the profile
    expect(x64(457)).toBe(ENOSYS); // statmount: newer than anything the profile names here
    expect(x64(100_000)).toBe(ENOSYS);
  });

  it.skipIf(process.arch !== 'x64')('covers the 32-bit ABIs the profile adds: i386 and x32', () => {
    expect(run(bpf, 3, AUDIT_ARCH_I386)).toBe(ALLOW); // i386 read
    expect(run(bpf, 100_000, AUDIT_ARCH_I386)).toBe(ENOSYS);
    expect(run(bpf, X32_SYSCALL_BIT | 0, AUDIT_ARCH_X86_64)).toBe(ALLOW); // x32 read
    expect(run(bpf, X32_SYSCALL_BIT | 100_000, AUDIT_ARCH_X86_64)).toBe(ENOSYS);
    expect(run(bpf, 0, 0xc00000b7)).toBe(0); // another architecture: killed (libseccomp's bad-arch action)
  });

  it('adds no stub when the default action allows (runc\'s rule)', async () => {
    const allowAll = await compileSeccompProfile(decodeSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["keyctl"],"action":"SCMP_ACT_ERRNO"}]}'), []);
    expect(run(allowAll, 100_000, AUDIT_ARCH_X86_64)).toBe(ALLOW);
    expect(run(allowAll, 250, AUDIT_ARCH_X86_64)).toBe(EPERM);
  });

  it('lays the stub out with jumps that land inside it or on the filter\'s first instruction', () => {
    const stub = enosysStub([{ auditArch: AUDIT_ARCH_X86_64, max: 456, maxX32: X32_SYSCALL_BIT | 547 }, { auditArch: AUDIT_ARCH_I386, max: 456 }]);
    const insns = decodeBpf(stub);
    insns.forEach((i, pc) => {
      if ((i.code & 0x07) === 0x05 && i.code !== 0x05) {
        expect(pc + 1 + i.jt).toBeLessThanOrEqual(insns.length);
        expect(pc + 1 + i.jf).toBeLessThanOrEqual(insns.length);
      }
    });
    // Followed by a program that allows everything, the stub alone decides ENOSYS.
    const withAllow = Buffer.concat([stub, Buffer.from([0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f])]);
    expect(run(withAllow, 456, AUDIT_ARCH_X86_64)).toBe(ALLOW);
    expect(run(withAllow, 457, AUDIT_ARCH_X86_64)).toBe(ENOSYS);
    expect(run(withAllow, X32_SYSCALL_BIT | 547, AUDIT_ARCH_X86_64)).toBe(ALLOW);
    expect(run(withAllow, X32_SYSCALL_BIT | 548, AUDIT_ARCH_X86_64)).toBe(ENOSYS);
    expect(run(withAllow, 457, AUDIT_ARCH_I386)).toBe(ENOSYS);
    expect(run(withAllow, 457, 0xc00000b7)).toBe(ALLOW);
  });
});
