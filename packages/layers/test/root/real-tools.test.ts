import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '../../src/store.js';
import { lookInside } from './look-inside.js';
import { describeRoot, hostMountTable } from '@berth/testing';

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = ['umoci', 'skopeo', 'tar'].filter((c) => !have(c));
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const skipReason = missing.length > 0 ? `not installed: ${missing.join(', ')}` : busybox === undefined ? 'no busybox binary (busybox-static)' : '';
if (skipReason) console.warn(`[layers] skipping umoci/skopeo imports: ${skipReason}`);

// What the image defines once its three layers are merged: busybox and
// its links from layer 1, /etc/motd whited out by layer 2, /opt replaced by
// an opaque layer 3.
const EXPECTED_TREE = ['bin', 'bin/busybox', 'bin/ls', 'bin/sh', 'etc', 'etc/hostname', 'opt', 'opt/c'];

describeRoot('images made by umoci and skopeo', () => {
  let dir: string;
  let store: LayerStore;
  let hostBefore: string;
  const run = (cmd: string, ...args: string[]): void => {
    execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };

  beforeAll(() => {
    hostBefore = hostMountTable();
    dir = mkdtempSync(join(tmpdir(), 'berth-layers-tools-'));
    store = LayerStore.open(join(dir, 'root'), { syscalls: new LinuxSyscalls() });
    if (skipReason) return;
    mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
    mkdirSync(join(dir, 'rootfs/etc'));
    mkdirSync(join(dir, 'rootfs/opt'));
    mkdirSync(join(dir, 'newopt'));
    copyFileSync(busybox!, join(dir, 'rootfs/bin/busybox'));
    symlinkSync('busybox', join(dir, 'rootfs/bin/sh'));
    symlinkSync('busybox', join(dir, 'rootfs/bin/ls'));
    writeFileSync(join(dir, 'rootfs/etc/motd'), 'hello\n');
    writeFileSync(join(dir, 'rootfs/etc/hostname'), 'bb\n');
    writeFileSync(join(dir, 'rootfs/opt/a'), 'a');
    writeFileSync(join(dir, 'rootfs/opt/b'), 'b');
    writeFileSync(join(dir, 'newopt/c'), 'c');
    run('umoci', 'init', '--layout', 'oci');
    run('umoci', 'new', '--image', 'oci:latest');
    run('umoci', 'insert', '--image', 'oci:latest', 'rootfs', '/');
    run('umoci', 'insert', '--image', 'oci:latest', '--whiteout', '/etc/motd');
    run('umoci', 'insert', '--image', 'oci:latest', '--opaque', 'newopt', '/opt');
    run('umoci', 'config', '--image', 'oci:latest', '--config.cmd', 'sh', '--config.env', 'FOO=bar', '--config.workingdir', '/opt');
    run('tar', '-C', 'oci', '-cf', 'umoci.tar', '.');
    run('skopeo', 'copy', '-q', 'oci:oci:latest', 'docker-archive:docker.tar:busybox:test');
    run('skopeo', 'copy', '-q', 'oci:oci:latest', 'oci-archive:oci-archive.tar:busybox:oci');
  }, 120_000);

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(hostMountTable()).toBe(hostBefore);
  });

  it.skipIf(skipReason !== '')('imports all three, stores their layers once, and merges to exactly the image files', async () => {
    const [fromUmoci] = (await store.importImage(join(dir, 'umoci.tar'), { tag: 'umoci' })).images;
    const [fromDocker] = (await store.importImage(join(dir, 'docker.tar'))).images;
    const [fromOci] = (await store.importImage(join(dir, 'oci-archive.tar'))).images;
    // skopeo keeps the config blob, so all three are one image with three tags.
    expect(fromUmoci!.tags).toEqual(['umoci:latest']);
    expect(fromDocker!.tags).toContain('busybox:test');
    expect(fromOci!.tags).toContain('busybox:oci');
    expect(store.inspectImage('busybox:test').id).toBe(fromUmoci!.id);
    expect(fromUmoci!.config).toMatchObject({ Cmd: ['sh'], WorkingDir: '/opt' });
    expect(fromUmoci!.config.Env).toContain('FOO=bar');
    expect(fromUmoci!.layers).toHaveLength(3);
    expect(fromDocker!.layers).toEqual(fromUmoci!.layers);
    expect(fromOci!.layers).toEqual(fromUmoci!.layers);
    expect(readdirSync(join(store.root, 'layers')).sort()).toEqual([...fromUmoci!.layers].sort());

    for (const ref of ['umoci', 'busybox:test', 'busybox:oci']) {
      const id = `c-${ref.replace(':', '-')}`;
      const layout = store.prepareContainer(id, ref);
      const seen = lookInside(layout.rootfs, ['bin/busybox', 'bin/sh', 'etc/motd'], [], true);
      expect(seen.tree, ref).toEqual(EXPECTED_TREE);
      expect(seen.entries['bin/busybox']).toMatchObject({ type: 'file', mode: 0o755 });
      expect(seen.entries['bin/sh']).toMatchObject({ type: 'symlink', target: 'busybox' });
      expect(seen.entries['etc/motd']).toBeNull();
      store.removeContainer(id);
    }
    // Removing two of the three tags only untags; the last takes the layers with it.
    expect(store.removeImage('umoci').deleted).toEqual([]);
    expect(store.removeImage('busybox:test').deleted).toEqual([]);
    expect(readdirSync(join(store.root, 'layers'))).toHaveLength(3);
    expect(store.removeImage('busybox:oci').deleted).toHaveLength(4);
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
  });
});
