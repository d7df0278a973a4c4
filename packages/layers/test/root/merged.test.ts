import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '../../src/store.js';
import { lookInside } from './look-inside.js';
import { dockerSave, sampleLayers } from '../fixtures.js';
import { describeRoot, hostMountTable } from '@berth/testing';

const PATHS = ['etc/passwd', 'etc/hostname', 'opt/old-a', 'opt/new', 'bin/tool', 'bin/sh', 'bin/libx-link', 'usr/lib/libx.so',
  'home/user', 'home/user/notes', 'dev/null', 'run/fifo', 'srv/data'];

for (const driver of ['overlay', 'vfs'] as const) {
  describeRoot(`the merged tree of an imported image (${driver})`, () => {
    let dir: string;
    let store: LayerStore;
    let hostBefore: string;
    beforeAll(async () => {
      hostBefore = hostMountTable();
      dir = mkdtempSync(join(tmpdir(), 'berth-layers-root-'));
      store = LayerStore.open(join(dir, 'root'), { syscalls: new LinuxSyscalls(), driver });
      await store.importImage(Readable.from(await dockerSave([{ layers: await sampleLayers(), tags: ['sample'] }])));
    });
    afterAll(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
      expect(hostMountTable()).toBe(hostBefore);
    });

    it('shows whiteouts applied, opaque dirs hiding lower content, owners, modes, links and nodes', () => {
      const layout = store.prepareContainer('c1', 'sample');
      expect(layout.rootfs.type).toBe(driver === 'overlay' ? 'overlay' : 'bind');
      const seen = lookInside(layout.rootfs, PATHS, ['opt', 'etc']);
      const e = seen.entries;
      expect(e['etc/passwd']).toBeNull();
      expect(e['opt/old-a']).toBeNull();
      expect(seen.listings['opt']).toEqual(['new']);
      expect(seen.listings['etc']).toEqual(['hostname']);
      expect(e['etc/hostname']?.content).toBe('top\n');
      expect(e['bin/tool']).toMatchObject({ type: 'file', mode: 0o4755, uid: 0 });
      expect(e['bin/sh']).toMatchObject({ type: 'symlink', target: 'tool' });
      expect(e['bin/libx-link']?.ino).toBe(e['usr/lib/libx.so']?.ino);
      expect(e['bin/libx-link']?.nlink).toBe(2);
      expect(e['home/user']).toMatchObject({ type: 'dir', mode: 0o700, uid: 1000, gid: 1000 });
      expect(e['home/user/notes']).toMatchObject({ mode: 0o640, uid: 1000, gid: 1001, note: 'kept', content: 'mine' });
      expect(e['dev/null']).toMatchObject({ type: 'char', mode: 0o666 });
      expect(e['run/fifo']).toMatchObject({ type: 'fifo', mode: 0o600 });
      expect(e['srv/data']).toMatchObject({ type: 'dir', mode: 0o750, uid: 33, gid: 33 });
      // The whiteout is a 0/0 character device in the layer itself.
      const mid = store.inspectImage('sample').layers[1]!;
      const wh = lstatSync(join(store.root, 'layers', mid, 'diff/etc/passwd'));
      expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
      store.removeContainer('c1');
      expect(existsSync(layout.dir)).toBe(false);
      expect(readdirSync(join(store.root, 'containers'))).toEqual([]);
    });
  });
}
