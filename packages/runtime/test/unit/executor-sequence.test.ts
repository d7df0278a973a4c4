import { describe, expect, it } from 'vitest';
import {
  AT_EMPTY_PATH, AT_RECURSIVE, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS, MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH, MS_PRIVATE, MS_REC, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE,
  RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS, SIOCSIFFLAGS,
} from '@berth/syscall';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { buildContainerTree } from '../../src/executor/tree.js';
import { planLaunch } from '../../src/plan/index.js';
import { cliToApiFields, resolveMounts } from '../../src/spec/index.js';

const ID = '0123456789abcdef'.repeat(4);
const MNT = `/b/containers/${ID}/mnt`;

function plan(volumeFlags: string[], network = 'none') {
  const specs = resolveMounts(cliToApiFields({ volume: volumeFlags }, { cwd: '/' }), {});
  return planLaunch({
    containerId: ID,
    image: { Cmd: ['true'] },
    config: {},
    hostConfig: { NetworkMode: network },
    mounts: specs.map((spec) => ({ spec, source: spec.type === 'volume' ? `/b/volumes/${spec.source}/_data` : spec.source, volumeName: spec.source, sourceIsFile: false, anonymous: false })),
    rootfs: { type: 'overlay', source: 'overlay', target: MNT, options: ['lowerdir=/b/l/A', 'upperdir=/u', 'workdir=/w'] },
    initPath: '/bin/berth-init',
  });
}

describe('buildContainerTree: the exact kernel call sequence of a plan', () => {
  // Copy-up reads the volume directory itself; it is covered by the root tests, so these volumes are nocopy.
  it('enters berth\'s namespace, unshares, mounts the rootfs, /dev, /sys, then each volume through fds resolved in the root', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan(['data:/data:nocopy', 'logs:/var/log:ro,nocopy']), 7);

    const names = rec.names();
    // The namespace and rootfs prologue, in order.
    expect(rec.calls.slice(0, 4)).toEqual([
      { name: 'setns', args: [7, CLONE_NEWNS] },
      // Not the pid namespace: the shim makes it, so that its child is PID 1.
      { name: 'unshare', args: [CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET] },
      { name: 'mount', args: [null, '/', null, MS_REC | MS_PRIVATE, null] },
      { name: 'mount', args: ['overlay', MNT, 'overlay', 0, 'lowerdir=/b/l/A,upperdir=/u,workdir=/w'] },
    ]);
    // Every mount target is an fd path, never a path string through the rootfs.
    for (const [, target] of rec.callsOf('mount').slice(2)) expect(target).toMatch(/^\/proc\/self\/fd\/\d+(\/[a-z]+)?$/);
    // /dev, /sys and /proc are resolved without following symlinks.
    const strict = rec.callsOf('openat2').filter(([, , how]) => how.resolve === (RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS));
    expect(strict.map(([, path]) => path)).toEqual(['dev', 'dev', 'sys', 'proc']);
    // Each volume: a detached clone of its data dir, read-only set before it is attached, moved onto the resolved fd.
    const firstVolume = rec.calls.findIndex((c) => c.name === 'open' && c.args[0] === '/b/volumes/data/_data');
    const volumeCalls = names.slice(firstVolume).filter((n) => ['open', 'openTree', 'mountSetattr', 'moveMount'].includes(n));
    expect(volumeCalls).toEqual(['open', 'openTree', 'moveMount', 'open', 'openTree', 'mountSetattr', 'moveMount']);
    expect(rec.callsOf('open').slice(1).map(([p]) => p)).toEqual(['/b/volumes/data/_data', '/b/volumes/logs/_data']);
    const [tree] = rec.callsOf('openTree');
    expect(tree![2]).toBe(OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    expect(rec.callsOf('mountSetattr')).toEqual([
      [expect.any(Number), '', AT_EMPTY_PATH | AT_RECURSIVE, { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0, propagation: 0, usernsFd: 0 }],
    ]);
    for (const call of rec.callsOf('moveMount')) expect(call[4]).toBe(MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    // Hostname, then loopback up, last.
    expect(names.slice(-5)).toEqual(['sethostname', 'socket', 'ioctl', 'ioctl', 'close']);
    expect(rec.callsOf('ioctl')[1]![1]).toBe(SIOCSIFFLAGS);
    // Every fd it opened, it closed.
    const opened = rec.calls.filter((c) => ['open', 'openat2', 'openTree', 'socket'].includes(c.name)).length;
    expect(rec.callsOf('close')).toHaveLength(opened);
  });

  it('keeps the host network with NetworkMode host: no new net namespace, no loopback setup', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan([], 'host'), 7);
    expect(rec.callsOf('unshare')[0]![0] & CLONE_NEWNET).toBe(0);
    expect(rec.names()).not.toContain('socket');
  });

  it('joins a network namespace prepared ahead instead of making one, and leaves its loopback alone', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan([]), 7, 99);
    expect(rec.calls.slice(0, 3)).toEqual([
      { name: 'setns', args: [7, CLONE_NEWNS] },
      { name: 'unshare', args: [CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC] },
      { name: 'setns', args: [99, CLONE_NEWNET] },
    ]);
    expect(rec.names()).not.toContain('socket');
  });

  it('stops at the first failing call and closes what it opened', () => {
    const rec = new RecordingSyscalls().failNext('moveMount', 'EBUSY');
    expect(() => buildContainerTree(rec.syscalls, plan(['data:/data:nocopy']), 7)).toThrow(/failed to moveMount.*EBUSY/);
    expect(rec.names()).not.toContain('sethostname');
    const opened = rec.calls.filter((c) => ['open', 'openat2', 'openTree', 'socket'].includes(c.name)).length;
    expect(rec.callsOf('close')).toHaveLength(opened);
  });
});
