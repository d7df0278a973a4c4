// The security resolver: every refusal with Docker's message, the defaults,
// capability arithmetic as moby's TweakCapabilities does it, SecurityOpt
// parsing, the seccomp profile's selection of rules, and the init flags.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecurityConfigError, type SecurityErrorCode } from '../../src/errors.js';
import { initArguments, execInitArguments, launchArguments, launchMessage } from '../../src/executor/init-args.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, defaultCapabilities } from '../../src/plan/defaults.js';
import { planExec, planLaunch, type PlanInput } from '../../src/plan/index.js';
import {
  CAPABILITY_NAMES, KNOWN_LAST_CAP, decodeSeccompProfile, defaultSeccompProfile, parseSecurityOpt, resolveSecurity,
  securityOptions, selectSeccompRules, type SecurityHostConfig,
} from '../../src/security/index.js';

const CTX = { lastCap: KNOWN_LAST_CAP };
const ID = 'abcdef0123456789'.repeat(4);

function refused(host: SecurityHostConfig, code: SecurityErrorCode, message: string, ctx = CTX): void {
  let caught: unknown;
  try {
    resolveSecurity(host, ctx);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SecurityConfigError);
  const e = caught as SecurityConfigError;
  expect(e.kind).toBe('invalid-parameter');
  expect(e.code).toBe(code);
  expect(e.message).toBe(message);
}

describe('defaults', () => {
  it('gives Docker defaults for an empty HostConfig: default caps, default seccomp, NoNewPrivs off, default masked paths', () => {
    const r = resolveSecurity({}, CTX);
    expect(r.capabilities.mask).toBe(0xa80425fb);
    expect(r.seccomp).toEqual({ kind: 'default' });
    expect(r.noNewPrivileges).toBe(false);
    expect(r.privileged).toBe(false);
    expect(r.maskedPaths).toEqual(DEFAULT_MASKED_PATHS);
    expect(r.readonlyPaths).toEqual(DEFAULT_READONLY_PATHS);
    expect(r).toMatchObject({ groupAdd: [], oomScoreAdj: 0, ulimits: [], sysctls: [] });
  });

  it('survives JSON (it is stored in the record and crosses to a worker)', () => {
    const r = resolveSecurity({ CapAdd: ['ALL'], Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }] }, CTX);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('takes no-new-privileges from the daemon unless the request says otherwise', () => {
    expect(resolveSecurity({}, { ...CTX, daemonNoNewPrivileges: true }).noNewPrivileges).toBe(true);
    expect(resolveSecurity({ SecurityOpt: ['no-new-privileges=false'] }, { ...CTX, daemonNoNewPrivileges: true }).noNewPrivileges).toBe(false);
  });
});

describe('capabilities (moby oci/caps)', () => {
  const names = (host: SecurityHostConfig, ctx = CTX): string[] => [...resolveSecurity(host, ctx).capabilities.names].sort();

  it('accepts names with or without CAP_, in any case', () => {
    expect(names({ CapAdd: ['sys_admin', 'CAP_net_ADMIN'] })).toEqual([...defaultCapabilities().names, 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'].sort());
  });

  it('drops ALL, then adds', () => {
    expect(names({ CapDrop: ['ALL'], CapAdd: ['chown'] })).toEqual(['CAP_CHOWN']);
    expect(resolveSecurity({ CapDrop: ['all'] }, CTX).capabilities.mask).toBe(0);
  });

  it('adds ALL except what is dropped', () => {
    const got = names({ CapAdd: ['ALL'], CapDrop: ['NET_RAW'] });
    expect(got).toHaveLength(CAPABILITY_NAMES.length - 1);
    expect(got).not.toContain('CAP_NET_RAW');
  });

  it('drops from the default set, then adds', () => {
    const got = names({ CapDrop: ['MKNOD', 'chown'], CapAdd: ['SYS_TIME'] });
    expect(got).not.toContain('CAP_MKNOD');
    expect(got).not.toContain('CAP_CHOWN');
    expect(got).toContain('CAP_SYS_TIME');
  });

  it('gives every capability the kernel has to a privileged container', () => {
    expect(names({ Privileged: true }, { lastCap: 37 })).toEqual([...CAPABILITY_NAMES.slice(0, 38)].sort());
    const mask = resolveSecurity({ Privileged: true }, CTX).capabilities.mask;
    expect(mask).toBe(2 ** 41 - 1);
  });

  it('refuses unknown capabilities with moby\'s message, even when privileged', () => {
    refused({ CapAdd: ['FOO'] }, 'invalid-capability', 'invalid CapAdd: unknown capability: "CAP_FOO"');
    refused({ CapAdd: ['cap_foo'] }, 'invalid-capability', 'invalid CapAdd: unknown capability: "CAP_FOO"');
    refused({ CapDrop: ['bar'], Privileged: true }, 'invalid-capability', 'invalid CapDrop: unknown capability: "CAP_BAR"');
    refused({ CapAdd: [''] }, 'invalid-capability', 'invalid CapAdd: unknown capability: "CAP_"');
  });

  it('refuses a capability this kernel does not have', () => {
    refused({ CapAdd: ['BPF'] }, 'invalid-capability',
      'invalid CapAdd: capability not supported by your kernel or not available in the current environment: "CAP_BPF"', { lastCap: 37 });
  });

  it('never yields a capability that was dropped, nor one outside the known list (fuzzed)', () => {
    const cap = fc.constantFrom(...CAPABILITY_NAMES.map((c) => c.slice(4).toLowerCase()), 'ALL', 'all');
    fc.assert(fc.property(fc.array(cap, { maxLength: 5 }), fc.array(cap, { maxLength: 5 }), (add, drop) => {
      const r = resolveSecurity({ CapAdd: add, CapDrop: drop }, CTX).capabilities;
      for (const n of r.names) expect(CAPABILITY_NAMES).toContain(n);
      const dropped = drop.filter((d) => d.toUpperCase() !== 'ALL').map((d) => `CAP_${d.toUpperCase()}`);
      const added = add.some((a) => a.toUpperCase() === 'ALL');
      // With CapAdd ALL, a dropped capability stays dropped; otherwise an explicit add wins (Docker's order).
      if (added) for (const d of dropped) expect(r.names).not.toContain(d);
      expect(r.mask).toBe(r.numbers.reduce((a, n) => a + 2 ** n, 0));
    }), { seed: 20261206, numRuns: 300 });
  });
});

describe('SecurityOpt (moby parseSecurityOpt)', () => {
  it('refuses unknown keys and malformed values with Docker\'s messages', () => {
    refused({ SecurityOpt: ['bogus=1'] }, 'invalid-security-opt', 'invalid --security-opt 2: "bogus=1"');
    refused({ SecurityOpt: ['seccomp'] }, 'invalid-security-opt', 'invalid --security-opt 1: "seccomp"');
    refused({ SecurityOpt: ['apparmor'] }, 'invalid-security-opt', 'invalid --security-opt 1: "apparmor"');
    refused({ SecurityOpt: ['no-new-privileges=maybe'] }, 'invalid-security-opt', 'invalid --security-opt 2: "no-new-privileges=maybe"');
    refused({ SecurityOpt: ['systempaths=bogus'] }, 'invalid-security-opt', 'invalid --security-opt 2: "systempaths=bogus"');
  });

  it('refuses what berth does not implement rather than ignoring it', () => {
    refused({ SecurityOpt: ['writable-cgroups=true'] }, 'invalid-unsupported-security-option', 'security option "writable-cgroups=true" is not supported by berth');
  });

  it('accepts label and apparmor as no-ops, and both separators', () => {
    expect(parseSecurityOpt(['label=disable', 'label:user:x', 'apparmor=unconfined', 'disable'])).toEqual({ seccomp: { kind: 'default' }, systemPathsUnconfined: false });
    expect(parseSecurityOpt(['seccomp:unconfined']).seccomp).toEqual({ kind: 'unconfined' });
    expect(parseSecurityOpt(['seccomp=builtin']).seccomp).toEqual({ kind: 'default' });
  });

  it('parses no-new-privileges as Go\'s ParseBool does', () => {
    for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseSecurityOpt([`no-new-privileges=${v}`]).noNewPrivileges).toBe(true);
    for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseSecurityOpt([`no-new-privileges:${v}`]).noNewPrivileges).toBe(false);
    expect(resolveSecurity({ SecurityOpt: ['no-new-privileges'] }, CTX).noNewPrivileges).toBe(true);
  });

  it('takes the last seccomp option, and turns seccomp off for privileged containers', () => {
    expect(resolveSecurity({ SecurityOpt: ['seccomp=unconfined', 'seccomp=builtin'] }, CTX).seccomp).toEqual({ kind: 'default' });
    expect(resolveSecurity({ Privileged: true }, CTX).seccomp).toEqual({ kind: 'unconfined' });
  });

  it('keeps a custom profile\'s text and refuses one that does not decode, with Docker\'s message', () => {
    const text = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }] });
    expect(resolveSecurity({ SecurityOpt: [`seccomp=${text}`] }, CTX).seccomp).toEqual({ kind: 'custom', profile: text });
    refused({ SecurityOpt: ['seccomp={"defaultAction": 5}'] }, 'invalid-seccomp-profile',
      'Decoding seccomp profile failed: json: cannot unmarshal number into Go struct field Seccomp.defaultAction of type specs.LinuxSeccompAction');
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_BOGUS"}'] }, 'invalid-seccomp-profile',
      'Decoding seccomp profile failed: string SCMP_ACT_BOGUS is not a valid action for seccomp');
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}'] },
      'invalid-seccomp-profile',
      "Decoding seccomp profile failed: both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}'] },
      'invalid-seccomp-profile', "Decoding seccomp profile failed: use either 'name' or 'names'");
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_NOPE"}]}]}'] },
      'invalid-seccomp-profile', 'Decoding seccomp profile failed: string SCMP_CMP_NOPE is not a valid operator for seccomp');
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}'] },
      'invalid-seccomp-profile', 'Decoding seccomp profile failed: string SCMP_ARCH_Z80 is not a valid arch for seccomp');
    refused({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/x"}'] },
      'invalid-unsupported-security-option', 'seccomp profile: SCMP_ACT_NOTIFY is not supported by berth');
    expect(() => resolveSecurity({ SecurityOpt: ['seccomp={nope'] }, CTX)).toThrow(/^Decoding seccomp profile failed: /);
  });

  it('never throws anything but SecurityConfigError for arbitrary options (fuzzed)', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 4 }), (opts) => {
      try {
        resolveSecurity({ SecurityOpt: opts }, CTX);
      } catch (err) {
        expect(err).toBeInstanceOf(SecurityConfigError);
      }
    }), { seed: 20261206, numRuns: 500 });
  });
});

describe('masked and read-only paths', () => {
  it('are none when privileged or with systempaths=unconfined, the request\'s own list otherwise', () => {
    expect(resolveSecurity({ Privileged: true }, CTX)).toMatchObject({ maskedPaths: [], readonlyPaths: [] });
    expect(resolveSecurity({ SecurityOpt: ['systempaths=unconfined'] }, CTX)).toMatchObject({ maskedPaths: [], readonlyPaths: [] });
    expect(resolveSecurity({ MaskedPaths: ['/proc/x'], ReadonlyPaths: [] }, CTX)).toMatchObject({ maskedPaths: ['/proc/x'], readonlyPaths: [] });
    refused({ MaskedPaths: ['proc/x'] }, 'invalid-security-opt', 'invalid HostConfig.MaskedPaths: expected a list of absolute paths');
  });
});

describe('OomScoreAdj, GroupAdd, Ulimits', () => {
  it('refuses an oom score outside -1000..1000 with Docker\'s message', () => {
    refused({ OomScoreAdj: 1001 }, 'invalid-oom-score-adj', 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
    refused({ OomScoreAdj: -1001 }, 'invalid-oom-score-adj', 'Invalid value -1001, range for oom score adj is [-1000, 1000]');
    refused({ OomScoreAdj: 1.5 }, 'invalid-oom-score-adj', 'invalid HostConfig.OomScoreAdj: expected an integer');
    expect(resolveSecurity({ OomScoreAdj: -1000 }, CTX).oomScoreAdj).toBe(-1000);
  });

  it('keeps group names and ids and refuses entries that cannot be one', () => {
    expect(resolveSecurity({ GroupAdd: ['audio', '1234'] }, CTX).groupAdd).toEqual(['audio', '1234']);
    refused({ GroupAdd: [''] }, 'invalid-group-add', 'invalid GroupAdd entry "": expected a group name or id');
    refused({ GroupAdd: ['a,b'] }, 'invalid-group-add', 'invalid GroupAdd entry "a,b": expected a group name or id');
  });

  it('checks ulimit names and soft <= hard with go-units\' messages; the last entry for a name wins', () => {
    refused({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 2 }] }, 'invalid-ulimit', 'invalid ulimit type: bogus');
    refused({ Ulimits: [{ Name: 'nofile', Soft: 3, Hard: 2 }] }, 'invalid-ulimit', 'ulimit soft limit must be less than or equal to hard limit: 3 > 2');
    refused({ Ulimits: [{ Name: 'nofile', Soft: -1, Hard: 2 }] }, 'invalid-ulimit', 'ulimit soft limit must be less than or equal to hard limit: -1 > 2');
    expect(resolveSecurity({ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }, { Name: 'nproc', Soft: 5, Hard: -1 }, { Name: 'nofile', Soft: 3, Hard: 4 }] }, CTX).ulimits)
      .toEqual([{ name: 'nproc', soft: 5, hard: -1 }, { name: 'nofile', soft: 3, hard: 4 }]);
  });
});

describe('Sysctls (runc\'s validation)', () => {
  it('allows the namespaced ones in namespaces of the container\'s own', () => {
    const r = resolveSecurity({ Sysctls: { 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '5', 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'x', 'net/ipv4/conf/eth0.100/forwarding': '1' } }, CTX);
    expect(r.sysctls).toEqual([
      { key: 'kernel.shmmax', value: '1' }, { key: 'fs.mqueue.msg_max', value: '5' }, { key: 'net.ipv4.ip_forward', value: '1' },
      { key: 'kernel.domainname', value: 'x' }, { key: 'net.ipv4.conf.eth0/100.forwarding', value: '1' },
    ]);
  });

  it('refuses the others with runc\'s messages', () => {
    refused({ Sysctls: { 'vm.swappiness': '1' } }, 'invalid-sysctl', 'sysctl "vm.swappiness" is not in a separate kernel namespace');
    refused({ Sysctls: { 'kernel.hostname': 'x' } }, 'invalid-sysctl', 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
    refused({ UTSMode: 'host', Sysctls: { 'kernel.domainname': 'x' } }, 'invalid-sysctl', 'sysctl "kernel.domainname" is not in a separate kernel namespace');
    refused({ NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } }, 'invalid-sysctl', 'sysctl "net.ipv4.ip_forward" not allowed in host network namespace');
    refused({ IpcMode: 'host', Sysctls: { 'kernel.shmmax': '1' } }, 'invalid-sysctl', 'sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace');
    refused({ Sysctls: { 'net.ipv4..x': '1' } }, 'invalid-sysctl', 'sysctl "net.ipv4..x" is not in a separate kernel namespace');
    refused({ Sysctls: { 'net/../../x': '1' } }, 'invalid-sysctl', 'sysctl "net.//.//.x" is not in a separate kernel namespace');
  });

  it('never lets a key reach a path outside /proc/sys (fuzzed)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (key) => {
      try {
        const [s] = resolveSecurity({ Sysctls: { [key]: 'v' } }, CTX).sysctls;
        expect(s).toBeDefined();
        const path = s!.key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
        expect(path.split('/')).not.toContain('..');
        expect(path.split('/')).not.toContain('');
        expect(s!.key).not.toContain('=');
      } catch (err) {
        expect(err).toBeInstanceOf(SecurityConfigError);
      }
    }), { seed: 20261206, numRuns: 500 });
  });
});

describe('the default seccomp profile (moby/profiles, as data)', () => {
  const profile = defaultSeccompProfile();
  const target = (caps: readonly string[]) => ({ arch: 'SCMP_ARCH_X86_64', goArch: 'amd64', capabilities: caps, kernel: '6.1.0' });
  const allowed = (caps: readonly string[]): Set<string> =>
    new Set(selectSeccompRules(profile, target(caps)).rules.filter((r) => r.action === 'SCMP_ACT_ALLOW').map((r) => r.name));

  it('keeps its structure: EPERM by default, x86_64 with its 32-bit sub-architectures', () => {
    const s = selectSeccompRules(profile, target(defaultCapabilities().names));
    expect(s.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).toBe(1);
    expect(s.arches).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('allows what the stub still does after loading it (capset, setgroups, setresuid, setresgid, prctl, close_range, execve)', () => {
    // The stub loads the filter before dropping capabilities and switching user
    // (no no_new_privs): these calls come after it, even with every capability dropped.
    for (const caps of [defaultCapabilities().names, []]) {
      const a = allowed(caps);
      for (const call of ['capset', 'setgroups', 'setresuid', 'setresgid', 'prctl', 'close_range', 'execve', 'write', 'exit_group']) {
        expect(a.has(call), call).toBe(true);
      }
    }
  });

  it('denies the attack surface to a default container and opens it with the capabilities that gate it', () => {
    const a = allowed(defaultCapabilities().names);
    for (const call of ['keyctl', 'add_key', 'request_key', 'unshare', 'bpf', 'perf_event_open', 'open_by_handle_at', 'clock_settime', 'io_uring_setup', 'mount', 'setns', 'kcmp']) {
      expect(a.has(call), call).toBe(false);
    }
    expect(allowed(['CAP_SYS_ADMIN']).has('unshare')).toBe(true);
    expect(allowed(['CAP_DAC_READ_SEARCH']).has('open_by_handle_at')).toBe(true);
    expect(allowed(['CAP_SYS_TIME']).has('clock_settime')).toBe(true);
    expect(allowed(['CAP_BPF']).has('bpf')).toBe(true);
    expect(allowed(['CAP_SYS_ADMIN']).has('keyctl')).toBe(false);
  });

  it('answers clone3 with ENOSYS without CAP_SYS_ADMIN (glibc falls back to clone) and filters clone on namespace flags', () => {
    const rules = selectSeccompRules(profile, target(defaultCapabilities().names)).rules;
    expect(rules.filter((r) => r.name === 'clone3')).toEqual([{ name: 'clone3', action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [] }]);
    expect(rules.filter((r) => r.name === 'clone')).toEqual([
      { name: 'clone', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }] },
    ]);
    const admin = selectSeccompRules(profile, target(['CAP_SYS_ADMIN'])).rules;
    expect(admin.filter((r) => r.name === 'clone3')).toEqual([{ name: 'clone3', action: 'SCMP_ACT_ALLOW', args: [] }]);
  });

  it('applies includes.minKernel', () => {
    const old = selectSeccompRules(profile, { ...target([]), kernel: '4.4.0' }).rules.map((r) => r.name);
    const recent = selectSeccompRules(profile, target([])).rules.map((r) => r.name);
    expect(old).not.toContain('ptrace');
    expect(recent).toContain('ptrace');
  });

  it('decodes the legacy name/architectures form too', () => {
    const p = decodeSeccompProfile(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ name: 'read', action: 'SCMP_ACT_ALLOW' }] }));
    expect(selectSeccompRules(p, target([])).rules).toEqual([{ name: 'read', action: 'SCMP_ACT_ALLOW', args: [] }]);
  });
});

describe('the plan and the init flags', () => {
  const base: PlanInput = {
    containerId: ID, config: { Cmd: ['sh'] }, hostConfig: {}, mounts: [],
    rootfs: { type: 'overlay', source: 'overlay', target: '/b/mnt', options: [] }, initPath: '/init',
  };

  it('emits the contract flags in order, repeated where they repeat', () => {
    const security = resolveSecurity({
      CapDrop: ['ALL'], CapAdd: ['chown', 'SYS_ADMIN'], SecurityOpt: ['no-new-privileges'], GroupAdd: ['audio', '1234'], OomScoreAdj: -500,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'core', Soft: 0, Hard: -1 }], Sysctls: { 'net.core.somaxconn': '1024', 'kernel.msgmax': '100' },
    }, CTX);
    const plan = planLaunch({ ...base, security, seccompPath: '/b/seccomp/x.bpf' });
    expect(plan).toMatchObject({ noNewPrivileges: true, privileged: false, seccomp: { path: '/b/seccomp/x.bpf' }, oomScoreAdj: -500 });
    const args = initArguments(plan);
    const flags = args.slice(0, args.indexOf('--'));
    // What the stub does to the root first (a sandbox does it ahead), then the launch's own.
    expect(flags).toEqual([
      '--rootfs', '/b/mnt', '--sysctl', 'net.core.somaxconn=1024', '--sysctl', 'kernel.msgmax=100',
      ...DEFAULT_MASKED_PATHS.flatMap((p) => ['--mask', p]), ...DEFAULT_READONLY_PATHS.flatMap((p) => ['--ro', p]),
      '--id', ID, '--cwd', '/', '--caps', (2 ** 0 + 2 ** 21).toString(16),
      '--seccomp', '/b/seccomp/x.bpf', '--no-new-privs', '--groups', 'audio,1234', '--oom-score-adj', '-500',
      '--rlimit', 'nofile=1024:2048', '--rlimit', 'core=0:-1',
    ]);
  });

  it('sends a sandbox the launch\'s own flags, the command and the environment, NUL-separated after their count', () => {
    const plan = planLaunch({ ...base, config: { Cmd: ['sh', '-c', 'echo "$A"'], Env: ['A=1'] }, hostConfig: { ReadonlyRootfs: true }, security: resolveSecurity({}, CTX) });
    const strings = launchMessage(plan).toString().split('\0');
    expect(strings.pop()).toBe('');
    const count = Number(strings[0]);
    const args = strings.slice(1, 1 + count);
    expect(args).toEqual(launchArguments(plan));
    expect(args.slice(args.indexOf('--'))).toEqual(['--', 'sh', '-c', 'echo "$A"']);
    expect(args).toContain('--readonly-rootfs');
    for (const f of ['--rootfs', '--mask', '--ro', '--sysctl']) expect(args).not.toContain(f);
    expect(strings.slice(1 + count)).toEqual(plan.env);
    expect(plan.env).toContain('A=1');
  });

  it('emits no security flag for the defaults but the caps, and none of the paths when privileged', () => {
    const args = initArguments(planLaunch({ ...base, security: resolveSecurity({}, CTX) }));
    for (const f of ['--seccomp', '--no-new-privs', '--groups', '--oom-score-adj', '--rlimit', '--sysctl']) expect(args).not.toContain(f);
    expect(args).toContain('a80425fb');
    const priv = initArguments(planLaunch({ ...base, security: resolveSecurity({ Privileged: true }, CTX) }));
    expect(priv).not.toContain('--mask');
    expect(priv).not.toContain('--ro');
    expect(priv[priv.indexOf('--caps') + 1]).toBe((2 ** 41 - 1).toString(16));
  });

  it('gives an exec the container\'s seccomp filter, capabilities, groups and no_new_privs', () => {
    const security = resolveSecurity({ CapAdd: ['NET_ADMIN'], SecurityOpt: ['no-new-privileges'], GroupAdd: ['audio'] }, CTX);
    const exec = planExec({ containerId: ID, config: {}, exec: { Cmd: ['id'] }, security, seccompPath: '/s.bpf' });
    const args = execInitArguments(exec, 42);
    expect(args.slice(0, args.indexOf('--'))).toEqual(['--exec-in', '42', '--cwd', '/', '--caps', security.capabilities.mask.toString(16), '--seccomp', '/s.bpf', '--no-new-privs', '--groups', 'audio']);
  });
});

describe('/info SecurityOptions', () => {
  it('says seccomp with the default profile, and no-new-privileges only when the daemon forces it', () => {
    expect(securityOptions({ seccomp: true, noNewPrivileges: false })).toEqual(['name=seccomp,profile=default']);
    expect(securityOptions({ seccomp: true, noNewPrivileges: true })).toEqual(['name=seccomp,profile=default', 'name=no-new-privileges']);
    expect(securityOptions({ seccomp: false, noNewPrivileges: false })).toEqual([]);
  });
});
