// The libseccomp binding: builds and exports filters without loading them
// (no privileges needed), and turns libseccomp's -errno into SyscallError.
import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../src/errors.js';
import {
  NR_SCMP_ERROR, SCMP_ACT_ALLOW, SCMP_CMP, SeccompFilter, libseccompVersion, nativeArch, resolveArchName, resolveSyscallName,
  scmpActErrno,
} from '../../src/seccomp.js';

describe('libseccomp through koffi', () => {
  it('resolves names: native numbers, pseudo numbers for other arches, an error for unknown ones', () => {
    expect(libseccompVersion()).toMatch(/^2\.\d+\.\d+$/);
    if (process.arch === 'x64') {
      expect(resolveSyscallName('keyctl')).toBe(250);
      expect(resolveSyscallName('chown32')).toBeLessThan(-1); // i386-only: a pseudo number
      expect(nativeArch()).toBe(resolveArchName('x86_64'));
    }
    expect(resolveSyscallName('no_such_syscall')).toBe(NR_SCMP_ERROR);
    expect(resolveArchName('z80')).toBe(0);
  });

  it('exports a filter as whole struct sock_filter entries, longer with more rules', () => {
    const small = SeccompFilter.create(scmpActErrno(1));
    const big = SeccompFilter.create(scmpActErrno(1));
    try {
      small.addRule(SCMP_ACT_ALLOW, resolveSyscallName('read'), []);
      big.addRule(SCMP_ACT_ALLOW, resolveSyscallName('read'), []);
      big.addRule(SCMP_ACT_ALLOW, resolveSyscallName('clone'), [{ arg: 0, op: SCMP_CMP.SCMP_CMP_MASKED_EQ, datumA: 0x7e020000n, datumB: 0n }]);
      const a = small.exportBpf();
      const b = big.exportBpf();
      expect(a.length % 8).toBe(0);
      expect(b.length % 8).toBe(0);
      expect(b.length).toBeGreaterThan(a.length);
    } finally {
      small.release();
      big.release();
    }
  });

  it('reports libseccomp\'s refusals as SyscallError', () => {
    const f = SeccompFilter.create(scmpActErrno(1));
    try {
      // An argument index past the six a syscall has.
      expect(() => f.addRule(SCMP_ACT_ALLOW, resolveSyscallName('read'), [{ arg: 7, op: SCMP_CMP.SCMP_CMP_EQ, datumA: 0n, datumB: 0n }], 'read'))
        .toThrow(SyscallError);
      // The default action again: libseccomp refuses a rule that changes nothing.
      expect(() => f.addRule(scmpActErrno(1), resolveSyscallName('read'), [], 'read')).toThrow(/failed to seccomp_rule_add read/);
    } finally {
      f.release();
    }
    expect(() => f.exportBpf()).toThrow(/after release/);
  });
});
