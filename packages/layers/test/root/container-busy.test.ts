/**
 * A container whose directory still has a mount under it in this process's
 * namespace is not removed (rm -rf would delete through the mount). The
 * store keeps its mount table and reads it again only when the kernel says
 * it changed: a mount made after the store opened must still be seen.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxSyscalls, MNT_DETACH, readMountinfo } from '@berth/syscall';
import { describeRoot, hostMountTable } from '@berth/testing';
import { ContainerBusyError, LayerStore } from '../../src/index.js';
import { dockerSave, sampleLayers } from '../fixtures.js';

describeRoot('container removal with a mount left under it', () => {
  const sys = new LinuxSyscalls();
  let dir: string;
  let store: LayerStore;
  let hostBefore: string;
  beforeAll(async () => {
    hostBefore = hostMountTable();
    dir = mkdtempSync(join(tmpdir(), 'berth-busy-'));
    store = LayerStore.open(join(dir, 'root'), { syscalls: sys });
    await store.importImage(Readable.from(await dockerSave([{ layers: await sampleLayers(), tags: ['sample'] }])));
  });
  afterAll(() => {
    // Had the store removed the directory through the mount (the guarantee broken), the mount moved with it.
    for (const m of readMountinfo().reverse()) if (m.mountPoint.startsWith(`${dir}/`)) sys.umount2(m.mountPoint, MNT_DETACH);
    store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(hostMountTable()).toBe(hostBefore);
  });

  it('refuses while the mount is there (made after the store opened), removes once it is gone', () => {
    const layout = store.prepareContainer('busy1', 'sample');
    // Looked at once before the mount: the table the store holds is then the old one.
    store.prepareContainer('idle1', 'sample');
    store.removeContainer('idle1');
    sys.mount('tmpfs', layout.mnt, 'tmpfs', 0, 'size=1m');
    try {
      expect(() => store.removeContainer('busy1')).toThrowError(ContainerBusyError);
      expect(existsSync(layout.dir)).toBe(true);
    } finally {
      if (existsSync(layout.mnt)) sys.umount2(layout.mnt, 0);
    }
    store.removeContainer('busy1');
    expect(existsSync(layout.dir)).toBe(false);
  });
});
