/**
 * Where a layer's inodes go (see the README, "Where a layer's inodes go"):
 * the store marks `layers/` as the top of directory hierarchies, so ext4
 * places each layer in a block group of its own choosing instead of beside
 * the store, away from the inodes the store freed a moment ago.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FS_IOC_GETFLAGS, FS_TOPDIR_FL, LinuxSyscalls, O_CLOEXEC, O_DIRECTORY, O_RDONLY, markTopDirectory } from '@berth/syscall';
import { describeRoot } from '@berth/testing';
import { LayerStore } from '../../src/index.js';

const EXT4_SUPER_MAGIC = 0xef53;

function inodeFlags(sys: LinuxSyscalls, dir: string): number {
  const fd = sys.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  try {
    const flags = Buffer.alloc(8);
    sys.ioctl(fd, FS_IOC_GETFLAGS, flags);
    return flags.readInt32LE(0);
  } finally {
    sys.close(fd);
  }
}

describeRoot('layer placement', () => {
  const sys = new LinuxSyscalls();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-placement-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks layers/ with chattr +T when the filesystem keeps inode flags (ext4 always does)', () => {
    const store = LayerStore.open(join(dir, 'store'), { syscalls: sys });
    store.close();
    const supported = markTopDirectory(sys, dir);
    if (statfsSync(dir).type === EXT4_SUPER_MAGIC) expect(supported).toBe(true);
    if (supported) {
      expect(inodeFlags(sys, join(dir, 'store', 'layers')) & FS_TOPDIR_FL).toBe(FS_TOPDIR_FL);
      // Only layers/: the store's other directories keep their inodes together.
      expect(inodeFlags(sys, join(dir, 'store', 'containers')) & FS_TOPDIR_FL).toBe(0);
    }
    // A second open of the same store keeps the flag and does not fail.
    LayerStore.open(join(dir, 'store'), { syscalls: sys }).close();
  });
});
