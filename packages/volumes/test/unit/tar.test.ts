import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '../../src/store.js';
import { isVolumeError } from '../../src/errors.js';
import { treeHash, treeLines } from '../helpers/tree-hash.js';

const sys = new LinuxSyscalls();

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A tar built entry by entry, for hostile archives. */
async function makeTar(entries: { header: tar.Headers; body?: string }[], finalize = true): Promise<Buffer> {
  const pack = tar.pack();
  const out = collect(pack);
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => pack.entry(e.header, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  if (finalize) pack.finalize();
  else pack.push(null);
  return out;
}

describe('export and import', () => {
  let root: string;
  let outside: string;
  let store: VolumeStore;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-outside-'));
    fs.writeFileSync(path.join(outside, 'passwd'), 'original');
    store = VolumeStore.open(root, { syscalls: sys });
  });
  afterEach(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  function fill(dir: string): void {
    fs.mkdirSync(path.join(dir, 'sub', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'file.txt'), 'hello');
    fs.writeFileSync(path.join(dir, 'bin'), Buffer.from([0, 1, 2, 255, 254]));
    fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(300_000, 7));
    fs.chmodSync(path.join(dir, 'bin'), 0o4750);
    fs.linkSync(path.join(dir, 'sub', 'file.txt'), path.join(dir, 'hard'));
    fs.linkSync(path.join(dir, 'sub', 'file.txt'), path.join(dir, 'sub', 'deep', 'hard2'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'abs-link'));
    fs.symlinkSync('sub/file.txt', path.join(dir, 'rel-link'));
    fs.writeFileSync(path.join(dir, 'long-' + 'n'.repeat(150)), 'long name');
    sys.lsetxattr(path.join(dir, 'sub', 'file.txt'), 'user.text', Buffer.from('värde'), 0);
    sys.lsetxattr(path.join(dir, 'bin'), 'user.binary', Buffer.from([0xff, 0x00, 0xfe]), 0);
    sys.lsetxattr(dir, 'user.top', Buffer.from('top'), 0);
    fs.chmodSync(path.join(dir, 'sub', 'deep'), 0o700);
    fs.chmodSync(dir, 0o750);
  }

  it('round-trips byte for byte (owners, modes, xattrs, hardlinks, symlinks)', async () => {
    const src = store.create({ name: 'src' });
    fill(src.Mountpoint);
    const archive = await collect(store.exportTar('src'));
    const report = await store.importTar('dst', Readable.from([archive]));
    expect(report.created).toBe(true);
    expect(treeLines(report.volume.Mountpoint, sys)).toEqual(treeLines(src.Mountpoint, sys));
    expect(treeHash(report.volume.Mountpoint, sys)).toBe(treeHash(src.Mountpoint, sys));
    const st = fs.statSync(path.join(report.volume.Mountpoint, 'hard'));
    expect(st.nlink).toBe(3);
    // and the mtime survives to the second
    expect(Math.floor(fs.statSync(path.join(report.volume.Mountpoint, 'big')).mtimeMs / 1000)).toBe(
      Math.floor(fs.statSync(path.join(src.Mountpoint, 'big')).mtimeMs / 1000),
    );
  });

  it('the tree hash sees a changed mode, owner bit, xattr or hardlink', async () => {
    const a = store.create({ name: 'aa' });
    fill(a.Mountpoint);
    const before = treeHash(a.Mountpoint, sys);
    fs.chmodSync(path.join(a.Mountpoint, 'bin'), 0o750);
    expect(treeHash(a.Mountpoint, sys)).not.toBe(before);
    fs.chmodSync(path.join(a.Mountpoint, 'bin'), 0o4750);
    expect(treeHash(a.Mountpoint, sys)).toBe(before);
    sys.lsetxattr(path.join(a.Mountpoint, 'bin'), 'user.binary', Buffer.from([0xff]), 0);
    expect(treeHash(a.Mountpoint, sys)).not.toBe(before);
  });

  it('imports only into a new or empty, unused volume', async () => {
    const v = store.create({ name: 'full' });
    fs.writeFileSync(path.join(v.Mountpoint, 'x'), 'x');
    const archive = await makeTar([{ header: { name: 'y', type: 'file' }, body: 'y' }]);
    await expect(store.importTar('full', Readable.from([archive]))).rejects.toThrow(/the volume is not empty/);
    store.create({ name: 'used' });
    store.acquire('used', 'c1');
    await expect(store.importTar('used', Readable.from([archive]))).rejects.toThrow('import into used: volume is in use - [c1]');
    store.create({ name: 'empty' });
    const r = await store.importTar('empty', Readable.from([archive]));
    expect(r.created).toBe(false);
    expect(fs.readFileSync(path.join(r.volume.Mountpoint, 'y'), 'utf8')).toBe('y');
  });

  const hostile: [string, () => Promise<Buffer>][] = [
    ['a `..` entry', () => makeTar([{ header: { name: 'ok', type: 'file' }, body: 'ok' }, { header: { name: '../../../escape', type: 'file' }, body: 'x' }])],
    ['an absolute entry', () => makeTar([{ header: { name: '/tmp/abs-escape', type: 'file' }, body: 'x' }])],
    ['a write through a planted symlink', () => makeTar([
      { header: { name: 'evil', type: 'symlink', linkname: outside } },
      { header: { name: 'evil/passwd', type: 'file' }, body: 'pwned' },
    ])],
    ['a hardlink to a file outside', () => makeTar([{ header: { name: 'h', type: 'link', linkname: '../../../../../../' + path.join(outside, 'passwd') } }])],
    ['a hardlink through a symlink', () => makeTar([
      { header: { name: 'evil', type: 'symlink', linkname: outside } },
      { header: { name: 'h', type: 'link', linkname: 'evil/passwd' } },
    ])],
    ['a truncated stream', async () => {
      const whole = await makeTar([{ header: { name: 'a', type: 'file' }, body: 'a'.repeat(5000) }, { header: { name: 'b', type: 'file' }, body: 'b' }]);
      return whole.subarray(0, 3000);
    }],
    ['a stream cut between entries', () => makeTar([{ header: { name: 'a', type: 'file' }, body: 'a' }], false)],
  ];
  for (const [what, build] of hostile) {
    it(`refuses ${what} and leaves the target untouched`, async () => {
      const archive = await build();
      const before = fs.readdirSync(store.volumesDir).sort();
      let err: unknown;
      try {
        await store.importTar('target', Readable.from([archive]));
      } catch (e) {
        err = e;
      }
      expect(isVolumeError(err, 'InvalidArchive')).toBe(true);
      expect(store.find('target')).toBeUndefined();
      expect(await store.trashSettled()).toEqual([]);
      expect(fs.readdirSync(store.volumesDir).sort()).toEqual(before);
      expect(fs.readdirSync(outside)).toEqual(['passwd']);
      expect(fs.readFileSync(path.join(outside, 'passwd'), 'utf8')).toBe('original');
      expect(fs.existsSync('/tmp/abs-escape')).toBe(false);
      // an existing empty volume stays empty too
      const v = store.create({ name: 'keep' });
      await expect(store.importTar('keep', Readable.from([archive]))).rejects.toThrow(/was left untouched/);
      expect(fs.readdirSync(path.join(store.volumesDir, 'keep'))).toEqual(['_data']);
      expect(fs.readdirSync(v.Mountpoint)).toEqual([]);
    });
  }
});
