import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AT_EMPTY_PATH, AT_RECURSIVE, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUTS,
  MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE,
  RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS, S_IFBLK, S_IFCHR, SIOCSIFFLAGS, makedev, errnoNumber, type SyscallCall, type TreeClone,
} from '@berth/syscall';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { buildContainerTree } from '../../src/executor/tree.js';
import { planLaunch, type HostDevices, type PlanHostConfig, type PlanInput } from '../../src/plan/index.js';
import { cliToApiFields, resolveMounts } from '../../src/spec/index.js';

const ID = '0123456789abcdef'.repeat(4);
const MNT = `/b/containers/${ID}/mnt`;

function plan(volumeFlags: string[], network = 'none', hostConfig: PlanHostConfig = {}, extra: Partial<PlanInput> = {}) {
  const specs = resolveMounts(cliToApiFields({ volume: volumeFlags }, { cwd: '/' }), {});
  return planLaunch({
    ...extra,
    containerId: ID,
    config: { Cmd: ['true'] },
    hostConfig: { NetworkMode: network, ...hostConfig },
    mounts: specs.map((spec) => ({ spec, source: spec.type === 'volume' ? `/b/volumes/${spec.source}/_data` : spec.source, volumeName: spec.source, sourceIsFile: false, anonymous: false })),
    rootfs: { type: 'overlay', source: 'overlay', target: MNT, options: ['lowerdir=/b/l/A', 'upperdir=/u', 'workdir=/w'] },
    initPath: '/bin/berth-init',
  });
}

const OPEN_CLONE = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
const PRIVATE = { attrSet: 0, attrClr: 0, propagation: MS_PRIVATE, usernsFd: 0 };
/** Every fd the plan's calls opened: single opens, and each tree a batched clone made. */
const fdsOpened = (calls: SyscallCall[]) => calls.reduce((n, c) => {
  if (c.name === 'cloneTrees') return n + c.args[0].length;
  return n + (['open', 'openat2', 'tryOpenat2', 'openTree', 'socket'].includes(c.name) ? 1 : 0);
}, 0);
/** A batched clone entry as the plan asks for it. */
const clone = (source: string, extra: Partial<TreeClone> = {}): TreeClone => ({
  source, recursive: true, propagation: MS_PRIVATE, propagationRecursive: true, readOnly: false, readOnlyRecursive: false, ...extra,
});
/** Lookups in the root, single or the first try (which answers ENOENT with a code), in call order. */
const lookups = (calls: SyscallCall[]) => calls.flatMap((c) => (c.name === 'openat2' || c.name === 'tryOpenat2' ? [c.args] : []));
/** The calls before the first one named `name` (and that one's index). */
const indexOf = (calls: SyscallCall[], match: (c: SyscallCall) => boolean) => calls.findIndex(match);

describe('buildContainerTree: the exact kernel call sequence of a plan', () => {
  // Copy-up reads the volume directory itself; it is covered by the root tests, so these volumes are nocopy.
  it('clones host binds in the host\'s namespace, volumes in berth\'s, then unshares and attaches each through fds resolved in the root', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan(['/srv:/srv', 'data:/data:nocopy', 'logs:/var/log:ro,nocopy']), 7);
    const calls = rec.calls;

    // The host bind: one batched clone (open_tree, then private propagation) before the thread enters berth's namespace.
    expect(calls.slice(0, 2)).toEqual([
      { name: 'cloneTrees', args: [[clone('/srv')]] },
      { name: 'setns', args: [7, CLONE_NEWNS] },
    ]);
    // Volumes: one batched clone inside berth's namespace (where tmpfs- and device-backed volumes live), before the
    // unshare; `ro` is recursive, set on the detached tree before it is attached anywhere.
    expect(calls[2]).toEqual({
      name: 'cloneTrees',
      args: [[clone('/b/volumes/data/_data'), clone('/b/volumes/logs/_data', { readOnly: true, readOnlyRecursive: true })]],
    });
    const unshare = indexOf(calls, (c) => c.name === 'unshare');
    expect(unshare).toBe(3);
    expect(calls.slice(unshare, unshare + 3)).toEqual([
      { name: 'unshare', args: [CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET] },
      { name: 'mount', args: [null, '/', null, MS_REC | MS_PRIVATE, null] },
      { name: 'mount', args: ['overlay', MNT, 'overlay', 0, 'lowerdir=/b/l/A,upperdir=/u,workdir=/w'] },
    ]);
    // Every mount target is an fd path, never a path string through the rootfs.
    for (const [, target] of rec.callsOf('mount').slice(2)) expect(target).toMatch(/^\/proc\/self\/fd\/\d+(\/[a-z]+)?$/);
    // /dev, /sys and /proc are resolved without following symlinks.
    const strict = lookups(calls).filter(([, , how]) => how.resolve === (RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS));
    expect(strict.map(([, path]) => path)).toEqual(['dev', 'dev', 'sys', 'proc']);
    // The trees move onto their destinations, resolved in the root, in one batched call in the plan's order.
    expect(rec.callsOf('attachTrees')).toEqual([[expect.any(Number), [
      { tree: 1000, destination: 'srv', isFile: false },
      { tree: 1001, destination: 'data', isFile: false },
      { tree: 1002, destination: 'var/log', isFile: false },
    ], 0]]);
    expect(rec.names()).not.toContain('moveMount');
    // Hostname, then loopback up, then the detached trees' fds are closed.
    const names = rec.names();
    const hostname = names.indexOf('sethostname');
    expect(names.slice(hostname, hostname + 5)).toEqual(['sethostname', 'socket', 'ioctl', 'ioctl', 'close']);
    expect(rec.callsOf('ioctl')[1]![1]).toBe(SIOCSIFFLAGS);
    expect(names.slice(hostname + 5)).toEqual(['close', 'close', 'close']);
    expect(rec.callsOf('close')).toHaveLength(fdsOpened(rec.calls));
  });

  it('keeps rslave binds slaves and rshared binds peers of their host mount', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan(['/a:/a:rslave', '/b:/b:rshared', '/c:/c:shared']), 7);
    expect(rec.callsOf('cloneTrees')[0]![0].map((t) => [t.propagationRecursive, t.propagation])).toEqual([
      [true, MS_SLAVE],
      [true, MS_SHARED],
      [false, MS_SHARED],
    ]);
    // With a propagating bind the container's namespace is a slave, not private.
    expect(rec.callsOf('mount')[0]).toEqual([null, '/', null, MS_REC | MS_SLAVE, null]);
  });

  it('resolves a volume subpath beneath the volume, without symlinks, before cloning it', () => {
    // The subpath's fd is stat-ed (file or directory?): answer with a real directory fd.
    const realDir = openSync(tmpdir(), 'r');
    let fake = 5000;
    const rec = new RecordingSyscalls().respond('openat2', (_dirfd, path) => (path === 'sub/dir' ? realDir : fake++));
    try {
      const p = planLaunch({
        containerId: ID, config: { Cmd: ['true'] }, hostConfig: {},
        mounts: resolveMounts({ HostConfig: { Mounts: [{ Type: 'volume', Source: 'v', Target: '/v', VolumeOptions: { Subpath: 'sub/dir', NoCopy: true } }] } }, {})
          .map((spec) => ({ spec, source: '/b/volumes/v/_data', volumeName: 'v' })),
        rootfs: { type: 'overlay', source: 'overlay', target: MNT, options: [] }, initPath: '/bin/berth-init',
      });
      buildContainerTree(rec.syscalls, p, 7);
    } finally {
      closeSync(realDir);
    }
    const at = indexOf(rec.calls, (c) => c.name === 'open' && c.args[0] === '/b/volumes/v/_data');
    expect(at).toBeGreaterThan(indexOf(rec.calls, (c) => c.name === 'setns'));
    expect(rec.calls.slice(at + 1, at + 4)).toEqual([
      { name: 'openat2', args: [1000, 'sub/dir', { flags: expect.any(Number), mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS }] },
      { name: 'close', args: [1000] },
      { name: 'openTree', args: [realDir, '', OPEN_CLONE | AT_RECURSIVE] },
    ]);
  });

  it('refuses a bind whose host source is missing with Docker\'s error, before touching any namespace', () => {
    const rec = new RecordingSyscalls().respond('cloneTrees', () => ({ trees: [], errno: errnoNumber('ENOENT'), step: 'openTree' }));
    expect(() => buildContainerTree(rec.syscalls, plan(['/gone:/x']), 7)).toThrow('invalid mount config for type "bind": bind source path does not exist: /gone');
    expect(rec.names()).toEqual(['cloneTrees']);
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

  it('--pid host and --uts host: neither unshared, no hostname set', () => {
    const rec = new RecordingSyscalls();
    buildContainerTree(rec.syscalls, plan([], 'none', { PidMode: 'host', UTSMode: 'host' }), 7);
    expect(rec.callsOf('unshare')).toEqual([[CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET]]);
    expect(rec.names()).not.toContain('sethostname');
  });

  it('--pid and --ipc container:X: the thread joins the donor\'s ipc (the shim its pid namespace), clones its /dev/shm inside its mount namespace, unshares the rest', () => {
    const rec = new RecordingSyscalls();
    const p = plan([], 'none', { PidMode: 'container:db', IpcMode: 'container:db' }, { namespaceDonors: { pid: 321, ipc: 321 } });
    expect(p.joinNamespaces).toEqual({ ipc: '/proc/321/ns/ipc' });
    expect(p.pidNamespace).toBe('/proc/321/ns/pid');
    expect(p.dev.mounts.map((m) => m.name)).toEqual(['pts', 'mqueue']);
    buildContainerTree(rec.syscalls, p, 7);
    expect(rec.calls.slice(0, 10)).toEqual([
      { name: 'open', args: ['/proc/321/ns/ipc', expect.any(Number), 0] },
      { name: 'open', args: ['/proc/321/ns/mnt', expect.any(Number), 0] },
      { name: 'setns', args: [1001, CLONE_NEWNS] },
      { name: 'close', args: [1001] },
      { name: 'open', args: ['/', expect.any(Number), 0] },
      { name: 'openat2', args: [1002, 'dev/shm', { flags: expect.any(Number), mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS }] },
      { name: 'openTree', args: [1003, '', OPEN_CLONE] },
      { name: 'mountSetattr', args: [1004, '', AT_EMPTY_PATH, PRIVATE] },
      { name: 'close', args: [1003] },
      { name: 'close', args: [1002] },
    ]);
    expect(rec.calls.slice(10, 13)).toEqual([
      { name: 'setns', args: [7, CLONE_NEWNS] },
      { name: 'setns', args: [1000, CLONE_NEWIPC] },
      { name: 'unshare', args: [CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWNET] },
    ]);
    // The donor's /dev/shm goes onto the new /dev/shm, resolved without symlinks.
    const shmMove = rec.calls.find((c) => c.name === 'moveMount');
    expect(shmMove?.args[0]).toBe(1004);
    expect(lookups(rec.calls).some(([, path, how]) => path === 'dev/shm' && how.resolve === (RESOLVE_IN_ROOT))).toBe(true);
    expect(rec.callsOf('close')).toHaveLength(fdsOpened(rec.calls));
  });

  it('--ipc host clones the host\'s /dev/shm; --ipc none has no /dev/shm at all', () => {
    const host = new RecordingSyscalls();
    buildContainerTree(host.syscalls, plan([], 'none', { IpcMode: 'host' }), 7);
    expect(host.names().slice(0, 3)).toEqual(['open', 'openat2', 'openTree']);
    expect(host.callsOf('unshare')[0]![0] & CLONE_NEWIPC).toBe(0);
    const none = plan([], 'none', { IpcMode: 'none' });
    expect(none.dev.mounts.map((m) => m.name)).toEqual(['pts', 'mqueue']);
    expect(none.sharedShm).toBeUndefined();
    expect(none.namespaces & CLONE_NEWIPC).toBe(CLONE_NEWIPC);
  });

  it('makes --device nodes after the mounts, through their resolved parent, with the host node\'s numbers and mode', () => {
    const hostDevices: HostDevices = {
      at: (path) => [{ path, type: path === '/dev/sda' ? 'b' : 'c', major: path === '/dev/sda' ? 8 : 1, minor: path === '/dev/sda' ? 0 : 3, mode: 0o660, uid: 0, gid: 6 }],
      all: () => [],
    };
    const rec = new RecordingSyscalls();
    const p = plan([], 'none', { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }, { PathOnHost: '/dev/sda' }] }, { hostDevices });
    buildContainerTree(rec.syscalls, p, 7);
    const mknods = rec.callsOf('mknodat');
    expect(mknods.slice(-2).map(([, name, mode, dev]) => [name, mode, dev])).toEqual([
      ['mynull', S_IFCHR | 0o660, makedev(1, 3)],
      ['sda', S_IFBLK | 0o660, makedev(8, 0)],
    ]);
    expect(rec.names().lastIndexOf('mknodat')).toBeGreaterThan(rec.names().lastIndexOf('moveMount'));
    expect(rec.callsOf('lchown').slice(-2).map(([, uid, gid]) => [uid, gid])).toEqual([[0, 6], [0, 6]]);
    expect(rec.callsOf('close')).toHaveLength(fdsOpened(rec.calls));
  });

  it('a batch entry whose mount point is missing comes back as ENOENT: made through the resolver, attached, and the batch goes on after it', () => {
    let round = 0;
    const rec = new RecordingSyscalls()
      .respond('attachTrees', (_root, list, start) => (round++ === 0
        ? { attached: 1, errno: errnoNumber('ENOENT'), step: 'openat2' }
        : { attached: list.length - start, errno: 0, step: '' }))
      // The resolver's first lookup of the missing /data: a code, never a thrown error.
      .respond('tryOpenat2', (_dirfd, path) => (path === 'data' ? -errnoNumber('ENOENT') : 3000 + round));
    buildContainerTree(rec.syscalls, plan(['/srv:/srv', 'data:/data:nocopy', '/opt:/opt']), 7);
    expect(rec.callsOf('attachTrees').map(([, list, start]) => [list.map((e) => e.destination), start])).toEqual([
      [['srv', 'data', 'opt'], 0],
      [['srv', 'data', 'opt'], 2],
    ]);
    const between = rec.names().slice(rec.names().indexOf('attachTrees') + 1, rec.names().lastIndexOf('attachTrees'));
    // Lookup (a code), the root '.' as parent, the component (a code), mkdir, open the new one, then the move.
    expect(between).toEqual(['tryOpenat2', 'openat2', 'tryOpenat2', 'mkdirat', 'openat2', 'close', 'moveMount', 'close']);
    expect(rec.callsOf('mkdirat').at(-1)![1]).toBe('data');
  });

  it('stops at the first failing call and closes what it opened', () => {
    // The batch answers with a code for the entry that failed; the executor turns it into the error.
    const rec = new RecordingSyscalls().respond('attachTrees', () => ({ attached: 1, errno: errnoNumber('EBUSY'), step: 'moveMount' }));
    expect(() => buildContainerTree(rec.syscalls, plan(['data:/data:nocopy', '/srv:/srv']), 7)).toThrow(/failed to moveMount.*EBUSY/);
    expect(rec.names()).not.toContain('sethostname');
    expect(rec.callsOf('close')).toHaveLength(fdsOpened(rec.calls));
  });
});
