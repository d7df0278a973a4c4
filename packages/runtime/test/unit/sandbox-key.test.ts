import { describe, expect, it } from 'vitest';
import { MS_PRIVATE, MS_SLAVE } from '@berth/syscall';
import { layerDirOf, sandboxKey } from '../../src/executor/sandbox.js';
import type { LaunchTask } from '../../src/executor/protocol.js';
import { planLaunch, type LaunchPlan, type PlannedMount, type PlanInput } from '../../src/plan/index.js';
import { KNOWN_LAST_CAP, resolveSecurity } from '../../src/security/index.js';

const ID = 'abcdef0123456789'.repeat(4);
const LAYER = `/b/containers/${ID}`;
const CTX = { lastCap: KNOWN_LAST_CAP };
const base: PlanInput = {
  containerId: ID, config: { Cmd: ['sh'] }, hostConfig: {}, mounts: [],
  rootfs: { type: 'overlay', source: 'overlay', target: `${LAYER}/mnt`, options: ['lowerdir=/b/l/A:/b/l/B', `upperdir=${LAYER}/diff`, `workdir=${LAYER}/work`] },
  initPath: '/init', hostCpus: 2,
};

function task(input: Partial<PlanInput> = {}, extra: Partial<LaunchTask> = {}, edit: (p: LaunchPlan) => LaunchPlan = (p) => p): LaunchTask {
  const plan = edit(planLaunch({ ...base, security: resolveSecurity({}, CTX), ...input }));
  return { plan, stdio: { stdout: 1, stderr: 2 }, statusFd: 3, berthNamespaceFd: 4, ...extra };
}

const volume = (destination: string, propagation = MS_PRIVATE): PlannedMount => ({
  kind: 'bind', type: 'volume', source: '/b/volumes/v/_data', destination, flags: 0, data: '', readOnly: false, recursive: true,
  recursiveReadOnly: false, propagation, propagationRecursive: true, copyUp: false, sourceIsFile: false,
} as unknown as PlannedMount);

describe('what a sandbox is keyed by', () => {
  const key = sandboxKey(task())!;

  it('is the same whatever the launch brings itself: command, env, user, cwd, hostname, volumes, limits, capabilities, seccomp', () => {
    expect(key).toBeDefined();
    for (const t of [
      task({ config: { Cmd: ['echo', 'other'], Env: ['A=1'], User: '1000', WorkingDir: '/w', Hostname: 'h' } }),
      task({ hostConfig: { Memory: 64 * 1024 * 1024, ReadonlyRootfs: true }, security: resolveSecurity({ CapDrop: ['ALL'], OomScoreAdj: 10 }, CTX) }),
      task({ seccompPath: '/b/seccomp/x.bpf' }),
      task({}, {}, (p) => ({ ...p, mounts: [volume('/data')] })),
      task({}, { stdio: { stdout: 7, stderr: 8 }, statusFd: 9 }),
    ]) expect(sandboxKey(t)).toBe(key);
  });

  it('differs for everything built ahead: image layers, /dev/shm, privileged, devices, sysctls, masks, cgroup parent', () => {
    const others = [
      task({ rootfs: { ...base.rootfs, options: ['lowerdir=/b/l/C', `upperdir=${LAYER}/diff`, `workdir=${LAYER}/work`] } }),
      task({ hostConfig: { ShmSize: 1024 * 1024 } }),
      task({ hostConfig: { Privileged: true }, security: resolveSecurity({ Privileged: true }, CTX), hostDevices: { at: () => [], all: () => [] } }),
      task({ security: resolveSecurity({ Sysctls: { 'net.core.somaxconn': '1024' } }, CTX) }),
      task({ security: resolveSecurity({ SecurityOpt: ['systempaths=unconfined'] }, CTX) }),
      task({ cgroupParent: '/other' }),
      task({ hostConfig: { UTSMode: 'host' } }),
    ].map((t) => sandboxKey(t));
    for (const k of others) {
      expect(k).toBeDefined();
      expect(k).not.toBe(key);
    }
    expect(new Set(others).size).toBe(others.length);
  });

  it('is none for what a sandbox cannot serve: another network or pid namespace, cpuset, slave propagation, mounts under /proc, /sys or /dev, vfs, faults', () => {
    for (const t of [
      task({}, { netFd: 10 }),
      task({ hostConfig: { PidMode: 'host' } }),
      task({ hostConfig: { NetworkMode: 'host' } }),
      task({ hostConfig: { CpusetCpus: '0' } }),
      task({ hostConfig: { IpcMode: 'host' } }),
      task({}, {}, (p) => ({ ...p, mounts: [volume('/data', MS_SLAVE)] })),
      task({}, {}, (p) => ({ ...p, mounts: [volume('/proc/x')] })),
      task({}, {}, (p) => ({ ...p, mounts: [volume('/sys/fs/cgroup')] })),
      task({}, {}, (p) => ({ ...p, mounts: [volume('/dev/shm')] })),
      task({ rootfs: { type: 'bind', source: `${LAYER}/rootfs`, target: `${LAYER}/mnt`, options: ['rbind'] } }),
      task({}, { fault: { failAt: 1, errno: 'EIO' } }),
      task({ config: { Cmd: ['echo', 'a\0b'] } }),
    ]) expect(sandboxKey(t)).toBeUndefined();
  });

  it('finds the writable layer only in the layer store\'s layout', () => {
    expect(layerDirOf(task().plan.rootfs)).toBe(LAYER);
    expect(layerDirOf({ ...base.rootfs, options: ['lowerdir=/x', 'upperdir=/elsewhere/diff', `workdir=${LAYER}/work`] })).toBeUndefined();
  });
});
