/**
 * `markTopDirectory`: chattr +T through FS_IOC_GETFLAGS/SETFLAGS, a hint
 * that a filesystem without inode flags answers with false, not an error.
 */
import { describe, expect, it } from 'vitest';
import { RecordingSyscalls } from '../../src/testing.js';
import { FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_TOPDIR_FL, O_CLOEXEC, O_DIRECTORY, O_RDONLY } from '../../src/constants.js';
import { SyscallError, errnoNumber } from '../../src/errors.js';
import { markTopDirectory } from '../../src/fs-flags.js';

describe('markTopDirectory', () => {
  it('reads the flags, adds FS_TOPDIR_FL to them and closes the directory', () => {
    const rec = new RecordingSyscalls();
    expect(markTopDirectory(rec.syscalls, '/store/layers')).toBe(true);
    expect(rec.calls.map((c) => c.name)).toEqual(['open', 'ioctl', 'ioctl', 'close']);
    expect(rec.calls[0]?.args).toEqual(['/store/layers', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0]);
    const [get, set] = rec.callsOf('ioctl');
    expect(get?.[1]).toBe(FS_IOC_GETFLAGS);
    expect(set?.[1]).toBe(FS_IOC_SETFLAGS);
    // The double leaves the read flags at 0: the set keeps them and adds T.
    expect((set?.[2] as Buffer).readInt32LE(0)).toBe(FS_TOPDIR_FL);
  });

  it('answers false for a filesystem without inode flags, and still closes the directory', () => {
    const rec = new RecordingSyscalls().failNext('ioctl', 'ENOTTY');
    expect(markTopDirectory(rec.syscalls, '/tmpfs/layers')).toBe(false);
    expect(rec.calls.map((c) => c.name)).toEqual(['open', 'ioctl', 'close']);
    const refused = new RecordingSyscalls().failNext('ioctl', 'EOPNOTSUPP', 2);
    expect(markTopDirectory(refused.syscalls, '/xfs/layers')).toBe(false);
    // Read, but not this process's to set (a directory another user owns).
    const notOwner = new RecordingSyscalls().respond('ioctl', (_fd, request) => {
      if (request === FS_IOC_SETFLAGS) throw new SyscallError('ioctl', errnoNumber('EPERM'));
      return 0;
    });
    expect(markTopDirectory(notOwner.syscalls, '/theirs/layers')).toBe(false);
    expect(notOwner.calls.map((c) => c.name)).toEqual(['open', 'ioctl', 'ioctl', 'close']);
  });

  it('throws any other failure (the directory cannot be opened, an I/O error)', () => {
    expect(() => markTopDirectory(new RecordingSyscalls().failNext('open', 'ENOENT').syscalls, '/gone')).toThrowError(SyscallError);
    const io = new RecordingSyscalls().failNext('ioctl', 'EIO');
    expect(() => markTopDirectory(io.syscalls, '/store/layers')).toThrowError(/EIO/);
    expect(io.calls.map((c) => c.name)).toEqual(['open', 'ioctl', 'close']);
  });
});
