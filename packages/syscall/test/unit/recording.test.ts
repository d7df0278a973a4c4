import { describe, expect, it } from 'vitest';
import { RecordingSyscalls } from '../../src/testing.js';
import {
  CLONE_FS, CLONE_NEWNS, MS_BIND, MS_PRIVATE, MS_REC, MS_SLAVE, O_CLOEXEC, O_RDONLY,
} from '../../src/constants.js';
import { SyscallError, errnoName, errnoNumber } from '../../src/errors.js';
import { withFault } from '../../src/fault.js';
import { Namespaces } from '../../src/namespaces.js';
import { PrivateMountNamespace } from '../../src/private-namespace.js';
import { makedev, major, minor } from '../../src/devices.js';

describe('RecordingSyscalls', () => {
  it('records the exact call sequence of a small mount plan with typed arguments', () => {
    const rec = new RecordingSyscalls();
    const sys = rec.syscalls;
    // A tiny plan: private tree, overlay, one volume bind, read-only remount.
    sys.unshare(CLONE_NEWNS | CLONE_FS);
    sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
    sys.mount('overlay', '/c/mnt', 'overlay', 0, 'lowerdir=/l1,upperdir=/u,workdir=/w');
    sys.mount('/v/_data', '/c/mnt/data', null, MS_BIND | MS_REC, null);

    expect(rec.calls).toEqual([
      { name: 'unshare', args: [CLONE_NEWNS | CLONE_FS] },
      { name: 'mount', args: [null, '/', null, MS_REC | MS_PRIVATE, null] },
      { name: 'mount', args: ['overlay', '/c/mnt', 'overlay', 0, 'lowerdir=/l1,upperdir=/u,workdir=/w'] },
      { name: 'mount', args: ['/v/_data', '/c/mnt/data', null, MS_BIND | MS_REC, null] },
    ]);
    expect(rec.callsOf('mount').map(([, target]) => target)).toEqual(['/', '/c/mnt', '/c/mnt/data']);
  });

  it('fails the next N calls of one name with the chosen errno, then succeeds', () => {
    const rec = new RecordingSyscalls().failNext('mount', 'EBUSY', 2);
    const sys = rec.syscalls;
    for (let i = 0; i < 2; i++) {
      expect(() => sys.mount('a', '/b', null, 0, null)).toThrowError(SyscallError);
    }
    expect(() => sys.mount('a', '/b', null, 0, null)).not.toThrow();
    // Other calls are not affected by a mount failure plan.
    expect(() => sys.umount2('/b', 0)).not.toThrow();
    try {
      new RecordingSyscalls().failNext('umount2', 'EINVAL').syscalls.umount2('/x', 0);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SyscallError);
      const e = error as SyscallError;
      expect(e.code).toBe('EINVAL');
      expect(e.syscall).toBe('umount2');
      expect(e.paths).toEqual(['/x']);
      expect(e.message).toBe('failed to umount2 /x: EINVAL (invalid argument)');
    }
  });

  it('hands out distinct fake fds and honours custom responders', () => {
    const rec = new RecordingSyscalls().respond('lgetxattr', (_path, name) => Buffer.from(name));
    const a = rec.syscalls.open('/a', O_RDONLY, 0);
    const b = rec.syscalls.openat2(a, 'b', { flags: 0, mode: 0, resolve: 0 });
    expect(a).not.toBe(b);
    expect(rec.syscalls.lgetxattr('/a', 'user.k')?.toString()).toBe('user.k');
  });
});

describe('SyscallError and errno names', () => {
  it('maps numbers to names and back', () => {
    expect(errnoName(errnoNumber('EXDEV'))).toBe('EXDEV');
    expect(errnoName(99999)).toBe('E99999');
    expect(() => errnoNumber('ENOPE')).toThrow(/unknown errno name/);
  });
});

describe('withFault', () => {
  it('fails exactly the Nth call of the chosen name and passes the rest through', () => {
    const rec = new RecordingSyscalls();
    const sys = withFault(rec.syscalls, { failAt: 2, errno: 'EIO', only: 'mount' });
    sys.mount('a', '/1', null, 0, null);
    sys.umount2('/1', 0);
    expect(() => sys.mount('a', '/2', null, 0, null)).toThrow(/EIO/);
    sys.mount('a', '/3', null, 0, null);
    expect(sys.fired).toBe(true);
    // The failed call never reached the inner implementation.
    expect(rec.callsOf('mount').map(([, t]) => t)).toEqual(['/1', '/3']);
  });
});

describe('Namespaces', () => {
  it('saves every namespace of the thread and restores all of them even if one fails', () => {
    const rec = new RecordingSyscalls();
    const ns = new Namespaces(rec.syscalls);
    const saved = ns.save();
    expect(rec.callsOf('open').map(([p]) => p)).toEqual([
      '/proc/thread-self/ns/mnt', '/proc/thread-self/ns/uts', '/proc/thread-self/ns/ipc',
      '/proc/thread-self/ns/net', '/proc/thread-self/ns/pid',
    ]);
    rec.clear();
    rec.failNext('setns', 'EINVAL');
    expect(() => ns.restore(saved)).toThrow(/EINVAL/);
    expect(rec.callsOf('setns')).toHaveLength(5);
  });
});

describe('PrivateMountNamespace', () => {
  it('unshares, makes the tree a slave of the host, keeps an fd, and returns the thread home', () => {
    const rec = new RecordingSyscalls();
    const ns = PrivateMountNamespace.create(rec.syscalls);
    expect(rec.names()).toEqual(['open', 'unshare', 'mount', 'open', 'setns', 'close']);
    expect(rec.callsOf('unshare')[0]).toEqual([CLONE_FS | CLONE_NEWNS]);
    expect(rec.callsOf('mount')[0]).toEqual([null, '/', null, MS_REC | MS_SLAVE, null]);
    const [home] = rec.callsOf('close')[0]!;
    expect(rec.callsOf('setns')[0]).toEqual([home, CLONE_NEWNS]);
    expect(ns.fd).not.toBe(home);
    expect(rec.callsOf('open')[1]).toEqual(['/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0]);
  });

  it('returns the thread home even when the work inside fails', () => {
    const rec = new RecordingSyscalls();
    const ns = PrivateMountNamespace.fromFd(rec.syscalls, 7);
    expect(() => ns.run(() => { throw new Error('boom'); })).toThrow('boom');
    expect(rec.callsOf('setns').map(([, t]) => t)).toEqual([CLONE_NEWNS, CLONE_NEWNS]);
    expect(rec.callsOf('setns')[0]![0]).toBe(7);
  });
});

describe('makedev', () => {
  it('encodes like glibc and round-trips', () => {
    expect(makedev(1, 3)).toBe(0x103);
    expect(makedev(0, 0)).toBe(0);
    const dev = makedev(259, 70000);
    expect(major(dev)).toBe(259);
    expect(minor(dev)).toBe(70000);
  });
});
