import { describe, expect, it } from 'vitest';
import {
  BPF_ALU32_AND_K, BPF_ALU32_MOV_K, BPF_ALU32_MOV_X, BPF_ALU32_RSH_K, BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE,
  BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR, BPF_JMP_EXIT, BPF_JMP_JNE_K, BPF_JMP_JNE_X, BPF_LDX_MEM_W, encodeBpf, v2DeviceProgram,
  type BpfInsn,
} from '../../src/cgroups/device-program.js';
import { v1DeviceWrites } from '../../src/cgroups/limits.js';
import {
  defaultDeviceRules, parseDeviceCgroupRule, planLaunch, privilegedDeviceRules, type DeviceRule, type HostDevices, type PlanHostConfig,
} from '../../src/plan/index.js';

/** Runs a device program the way the kernel would for one access (only the instructions it emits). */
function runProgram(program: readonly BpfInsn[], type: 'c' | 'b', major: number, minor: number, access: string): number {
  const ctx = [
    ((access.includes('m') ? BPF_DEVCG_ACC_MKNOD : 0) | (access.includes('r') ? BPF_DEVCG_ACC_READ : 0) | (access.includes('w') ? BPF_DEVCG_ACC_WRITE : 0)) << 16 |
      (type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
    major, minor,
  ];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < program.length; pc++) {
    const i = program[pc]!;
    switch (i.code) {
      case BPF_LDX_MEM_W: r[i.dst] = ctx[i.off / 4]! >>> 0; break;
      case BPF_ALU32_AND_K: r[i.dst] = (r[i.dst]! & i.imm) >>> 0; break;
      case BPF_ALU32_RSH_K: r[i.dst] = r[i.dst]! >>> i.imm; break;
      case BPF_ALU32_MOV_K: r[i.dst] = i.imm >>> 0; break;
      case BPF_ALU32_MOV_X: r[i.dst] = r[i.src]!; break;
      case BPF_JMP_JNE_K: if (r[i.dst] !== i.imm) pc += i.off; break;
      case BPF_JMP_JNE_X: if (r[i.dst] !== r[i.src]) pc += i.off; break;
      case BPF_JMP_EXIT: return r[0]!;
      default: throw new Error(`unexpected opcode ${i.code}`);
    }
  }
  throw new Error('the program fell off its end');
}

/** What the v1 device list decides (the reference semantics): the last matching rule wins, nothing matching denies. */
function decide(rules: readonly DeviceRule[], type: 'c' | 'b', major: number, minor: number, access: string): number {
  let verdict = 0;
  for (const r of rules) {
    const matches = (r.type === 'a' || r.type === type) && (r.major === '*' || r.major === major) && (r.minor === '*' || r.minor === minor) &&
      [...access].every((a) => r.type === 'a' || r.access.includes(a));
    if (matches) verdict = r.allow ? 1 : 0;
  }
  return verdict;
}

describe('device rules as data', () => {
  it('are Docker\'s defaults: deny all, mknod anything, open only the standard devices', () => {
    expect(v1DeviceWrites(defaultDeviceRules()).map((w) => `${w.file} ${w.value}`)).toEqual([
      'devices.deny a', 'devices.allow c *:* m', 'devices.allow b *:* m', 'devices.allow c 1:3 rwm', 'devices.allow c 1:8 rwm',
      'devices.allow c 1:7 rwm', 'devices.allow c 5:0 rwm', 'devices.allow c 1:5 rwm', 'devices.allow c 1:9 rwm', 'devices.allow c 5:1 rwm',
      'devices.allow c 136:* rwm', 'devices.allow c 5:2 rwm', 'devices.allow c 10:200 rwm',
    ]);
    expect(v1DeviceWrites(privilegedDeviceRules()).map((w) => `${w.file} ${w.value}`)).toEqual(['devices.allow a']);
  });

  it('parses --device-cgroup-rule with Docker\'s syntax and error', () => {
    expect(parseDeviceCgroupRule('c 1:3 mr')).toEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rm' });
    expect(parseDeviceCgroupRule('b *:* rwm')).toEqual({ allow: true, type: 'b', major: '*', minor: '*', access: 'rwm' });
    for (const bad of ['x 1:3 rwm', 'c 1:3 rwx', 'c 1 rwm', 'c 1:3', ' c 1:3 rwm', 'c -1:3 r']) {
      expect(() => parseDeviceCgroupRule(bad)).toThrow(`invalid device cgroup rule format: '${bad}'`);
    }
  });

  it('plans --device, --device-cgroup-rule and --privileged into nodes and rules', () => {
    const host: HostDevices = {
      at: (p) => {
        if (p === '/dev/snd') return [{ path: '/dev/snd/pcm0', type: 'c', major: 116, minor: 2, mode: 0o660, uid: 0, gid: 29 }];
        if (p === '/dev/sda') return [{ path: p, type: 'b', major: 8, minor: 0, mode: 0o660, uid: 0, gid: 6 }];
        throw new Error('no such file or directory');
      },
      all: () => [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, mode: 0o644, uid: 0, gid: 0 }],
    };
    const plan = (hostConfig: PlanHostConfig) => planLaunch({
      containerId: 'a'.repeat(64), config: { Cmd: ['true'] }, hostConfig, mounts: [],
      rootfs: { type: 'overlay', source: 'overlay', target: '/m', options: [] }, initPath: '/i', hostDevices: host,
    });
    const p = plan({ Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'r' }, { PathOnHost: '/dev/snd', PathInContainer: '/dev/sound', CgroupPermissions: '' }], DeviceCgroupRules: ['c 42:* rmw'] });
    expect(p.devices).toEqual([
      { path: '/dev/xvda', type: 'b', major: 8, minor: 0, mode: 0o660, uid: 0, gid: 6 },
      { path: '/dev/sound/pcm0', type: 'c', major: 116, minor: 2, mode: 0o660, uid: 0, gid: 29 },
    ]);
    expect(p.deviceRules.slice(-3)).toEqual([
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      { allow: true, type: 'c', major: 116, minor: 2, access: 'rwm' },
      { allow: true, type: 'c', major: 42, minor: '*', access: 'rwm' },
    ]);
    expect(p.privileged).toBe(false);
    expect(() => plan({ Devices: [{ PathOnHost: '/dev/nope' }] })).toThrow('error gathering device information while adding custom device "/dev/nope": no such file or directory');
    expect(() => plan({ Devices: [{ PathOnHost: '/dev/sda', CgroupPermissions: 'rwx' }] })).toThrow('invalid device mode: rwx');

    const priv = plan({ Privileged: true, Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/kmsg' }] });
    expect(priv.deviceRules).toEqual([{ allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' }]);
    // --device names win over the host node at the same path.
    expect(priv.devices).toEqual([{ path: '/dev/kmsg', type: 'b', major: 8, minor: 0, mode: 0o660, uid: 0, gid: 6 }]);
    expect(priv.sys.flags & 1).toBe(0); // MS_RDONLY off: /sys read-write
    expect([priv.maskedPaths, priv.readonlyPaths]).toEqual([[], []]);
  });

  it('builds a cgroup v2 device program that decides every access as the v1 list does', () => {
    const ruleSets: DeviceRule[][] = [
      defaultDeviceRules(),
      [...defaultDeviceRules(), parseDeviceCgroupRule('c 10:237 r'), parseDeviceCgroupRule('b 8:* rw')],
      privilegedDeviceRules(),
      [{ allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    ];
    const probes: Array<['c' | 'b', number, number]> = [['c', 1, 3], ['c', 1, 11], ['c', 10, 237], ['c', 136, 7], ['b', 8, 0], ['b', 8, 1], ['c', 5, 2], ['b', 7, 0]];
    for (const rules of ruleSets) {
      const program = v2DeviceProgram(rules);
      for (const [type, major, minor] of probes) {
        for (const access of ['r', 'w', 'm', 'rw', 'rwm']) {
          expect(runProgram(program, type, major, minor, access), `${JSON.stringify(rules.at(-1))} ${type} ${major}:${minor} ${access}`)
            .toBe(decide(rules, type, major, minor, access));
        }
      }
    }
    // Spot checks of the default rules' meaning.
    const defaults = v2DeviceProgram(defaultDeviceRules());
    expect(runProgram(defaults, 'b', 8, 0, 'm')).toBe(1);
    expect(runProgram(defaults, 'b', 8, 0, 'r')).toBe(0);
    expect(runProgram(defaults, 'c', 136, 3, 'rw')).toBe(1);
    expect(encodeBpf(defaults)).toHaveLength(defaults.length * 8);
    expect([...encodeBpf([{ code: BPF_JMP_JNE_K, dst: 4, src: 0, off: 3, imm: 136 }])]).toEqual([0x55, 0x04, 3, 0, 136, 0, 0, 0]);
  });
});
