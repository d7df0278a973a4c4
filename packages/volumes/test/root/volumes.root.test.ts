import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { AT_FDCWD, LinuxSyscalls, PrivateMountNamespace, S_IFCHR, S_IFIFO, makedev } from '@berth/syscall';
import { VolumeStore } from '../../src/store.js';
import { copyTree } from '../../src/copy-tree.js';
import { isEmptyDir } from '../../src/fs-safe.js';
import { treeHash, treeLines } from '../helpers/tree-hash.js';
import { describeRoot, hostMountTable } from '@berth/testing';

const sys = new LinuxSyscalls();
const here = path.dirname(fileURLToPath(import.meta.url));
// security.capability v2 for cap_net_bind_service (binary, not UTF-8).
const CAP = Buffer.from('0000000200040000000000000000000000000000', 'hex');

/** An image-like directory with everything copy-up and tar must keep. */
function fillRich(dir: string): void {
  fs.mkdirSync(path.join(dir, 'etc', 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'etc', 'app', 'conf'), 'conf');
  fs.writeFileSync(path.join(dir, 'ping'), 'binary');
  sys.lchown(path.join(dir, 'etc', 'app'), 1000, 1001);
  sys.lchown(path.join(dir, 'etc', 'app', 'conf'), 1000, 1001);
  sys.lchown(path.join(dir, 'ping'), 0, 0);
  fs.chmodSync(path.join(dir, 'ping'), 0o4755);
  sys.lsetxattr(path.join(dir, 'ping'), 'security.capability', CAP, 0);
  sys.lsetxattr(path.join(dir, 'etc'), 'trusted.berth-test', Buffer.from('t'), 0);
  fs.linkSync(path.join(dir, 'etc', 'app', 'conf'), path.join(dir, 'conf-link'));
  fs.symlinkSync('etc/app/conf', path.join(dir, 'sym'));
  sys.lchown(path.join(dir, 'sym'), 1000, 1001);
  sys.mknodat(AT_FDCWD, path.join(dir, 'null'), S_IFCHR | 0o666, makedev(1, 3));
  sys.mknodat(AT_FDCWD, path.join(dir, 'fifo'), S_IFIFO | 0o640, 0);
  fs.writeFileSync(path.join(dir, 'bigid'), 'x');
  sys.lchown(path.join(dir, 'bigid'), 165_536, 300_000);
  sys.lchown(dir, 33, 33);
  fs.chmodSync(dir, 0o1770);
  sys.lsetxattr(dir, 'user.top', Buffer.from('top'), 0);
}

describeRoot('volumes as root', () => {
  let base: string;
  let store: VolumeStore;
  let mountsBefore: string;
  beforeAll(() => {
    mountsBefore = hostMountTable();
  });
  afterAll(() => {
    expect(hostMountTable()).toBe(mountsBefore);
  });
  beforeEach(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-volroot-'));
  });
  afterEach(() => {
    store?.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('copy-up keeps owners, modes, xattrs, hardlinks, devices and the top directory', () => {
    const image = path.join(base, 'image');
    fs.mkdirSync(image);
    fillRich(image);
    store = VolumeStore.open(base, { syscalls: sys });
    const v = store.create({ name: 'copied' });
    expect(isEmptyDir(v.Mountpoint)).toBe(true);
    copyTree(image, v.Mountpoint, sys);
    expect(isEmptyDir(v.Mountpoint)).toBe(false);
    expect(treeLines(v.Mountpoint, sys)).toEqual(treeLines(image, sys));
    expect(fs.statSync(v.Mountpoint).uid).toBe(33);
    expect(sys.lgetxattr(path.join(v.Mountpoint, 'ping'), 'security.capability')).toEqual(CAP);
  });

  it('copy-up skips overlayfs private xattrs', () => {
    const image = path.join(base, 'image');
    fs.mkdirSync(path.join(image, 'd'), { recursive: true });
    sys.lsetxattr(path.join(image, 'd'), 'trusted.overlay.opaque', Buffer.from('y'), 0);
    const dst = path.join(base, 'dst');
    fs.mkdirSync(dst);
    copyTree(image, dst, sys);
    expect(sys.llistxattr(path.join(dst, 'd'))).toEqual([]);
  });

  it('export -> import is byte-identical with owners, setuid, capabilities, devices and big ids', async () => {
    store = VolumeStore.open(base, { syscalls: sys });
    const src = store.create({ name: 'src' });
    fillRich(src.Mountpoint);
    const chunks: Buffer[] = [];
    for await (const c of store.exportTar('src')) chunks.push(c as Buffer);
    const r = await store.importTar('dst', Readable.from([Buffer.concat(chunks)]));
    expect(treeLines(r.volume.Mountpoint, sys)).toEqual(treeLines(src.Mountpoint, sys));
    expect(treeHash(r.volume.Mountpoint, sys)).toBe(treeHash(src.Mountpoint, sys));
    // clone gives the same tree too
    expect(treeHash(store.clone('src', 'cl').Mountpoint, sys)).toBe(treeHash(src.Mountpoint, sys));
  });

  it('a tmpfs volume is mounted only in berth\'s namespace, enforces size, and goes with the last user', () => {
    const ns = PrivateMountNamespace.create(sys);
    try {
      store = VolumeStore.open(base, { syscalls: sys, mountNamespace: ns });
      const v = store.create({ name: 'small', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
      const inNs = (): string => ns.run(() => fs.readFileSync('/proc/thread-self/mountinfo', 'utf8'));
      const hostBefore = hostMountTable();
      expect(store.acquire('small', 'c1').driverMounted).toBe(true);
      store.acquire('small', 'c2');
      expect(hostMountTable()).toBe(hostBefore);
      expect(inNs()).toContain(` ${v.Mountpoint} `);
      const write = (size: number): string | undefined =>
        ns.run(() => {
          try {
            fs.writeFileSync(path.join(v.Mountpoint, `f${size}`), Buffer.alloc(size, 1));
            return undefined;
          } catch (e) {
            return (e as NodeJS.ErrnoException).code;
          }
        });
      expect(write(512 * 1024)).toBeUndefined();
      expect(write(2 * 1024 * 1024)).toBe('ENOSPC');
      // the host sees the (empty) directory underneath, not the tmpfs
      expect(fs.readdirSync(v.Mountpoint)).toEqual([]);
      store.release('small', 'c1');
      expect(inNs()).toContain(` ${v.Mountpoint} `);
      store.release('small', 'c2');
      expect(inNs()).not.toContain(` ${v.Mountpoint} `);
      expect(hostMountTable()).toBe(hostBefore);
    } finally {
      ns.close();
    }
  });

  it('removal does not cross into a mount left inside a volume: the emptier refuses, the next open retries', async () => {
    // The store and its trash worker run in a child process with a private mount namespace of its
    // own, where the tmpfs inside the volume is visible to the worker; it dies with the child.
    // The child runs the built package: build it first (incremental).
    execFileSync('npx', ['tsc', '-b', 'packages/volumes'], { cwd: path.resolve(here, '../../../..'), stdio: 'inherit' });
    const out = execFileSync('unshare', ['--mount', '--propagation', 'private', process.execPath, path.join(here, '../helpers/trash-mount.mjs'), base], { encoding: 'utf8' });
    const result = JSON.parse(out) as { failures: { dir: string; message: string }[]; kept: string };
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]!.message).toMatch(/mount point of another filesystem/);
    expect(result.kept).toBe('x');
    // Out here the mount is gone: the next open claims the batch left behind and empties it.
    store = VolumeStore.open(base, { syscalls: sys });
    expect(store.openReport.trashEmptied).toHaveLength(1);
    expect(store.find('bound')).toBeUndefined();
    expect(await store.trashSettled()).toEqual([]);
    expect(fs.existsSync(path.join(store.volumesDir, '.trash'))).toBe(false);
  });
});
