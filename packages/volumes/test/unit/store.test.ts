import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLONE_NEWNS, MNT_DETACH, PrivateMountNamespace } from '@berth/syscall';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { VolumeStore } from '../../src/store.js';
import { ANONYMOUS_LABEL } from '../../src/names.js';
import { isVolumeError, type VolumeErrorCode } from '../../src/errors.js';

function codeOf(fn: () => unknown): VolumeErrorCode | 'none' {
  try {
    fn();
  } catch (e) {
    if (isVolumeError(e)) return e.code;
    throw e;
  }
  return 'none';
}

describe('VolumeStore', () => {
  let root: string;
  let rec: RecordingSyscalls;
  let store: VolumeStore;
  const open = (extra: { ns?: PrivateMountNamespace } = {}): VolumeStore =>
    VolumeStore.open(root, { syscalls: rec.syscalls, ...(extra.ns ? { mountNamespace: extra.ns } : {}) });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));
    rec = new RecordingSyscalls();
    store = open();
  });
  afterEach(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates a named volume with Docker layout, modes and shape', () => {
    const v = store.create({ name: 'data', labels: { a: 'b' } });
    const dir = path.join(fs.realpathSync(root), 'volumes', 'data');
    expect(v).toEqual({
      Name: 'data', Driver: 'local', Mountpoint: path.join(dir, '_data'), CreatedAt: v.CreatedAt,
      Labels: { a: 'b' }, Scope: 'local', Options: {},
    });
    expect(v.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(fs.statSync(dir).mode & 0o7777).toBe(0o701);
    expect(fs.statSync(path.join(dir, '_data')).mode & 0o7777).toBe(0o755);
    expect(rec.callsOf('lchown').at(-1)?.slice(1)).toEqual([0, 0]);
    expect(store.inspect('data')).toEqual(v);
    // nothing temporary is left beside it
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('returns the existing volume for an existing name', () => {
    const a = store.create({ name: 'same', labels: { x: '1' } });
    const b = store.create({ name: 'same', labels: { y: '2' } });
    expect(b).toEqual(a);
  });

  it('makes an anonymous volume when no name is given', () => {
    const v = store.create();
    expect(v.Name).toMatch(/^[0-9a-f]{64}$/);
    expect(v.Labels).toEqual({ [ANONYMOUS_LABEL]: '' });
    expect(store.create({ name: '' }).Name).not.toBe(v.Name);
  });

  it('validates names, drivers and options before touching disk', () => {
    expect(() => store.create({ name: 'a' })).toThrow('volume name is too short, names should be at least two alphanumeric characters');
    expect(codeOf(() => store.create({ name: '../../etc' }))).toBe('InvalidName');
    expect(() => store.create({ name: 'x1', options: { bogus: '1' } })).toThrow('invalid option: "bogus"');
    expect(() => store.create({ name: 'x1', options: { o: 'size=1m' } })).toThrow('missing required option: "device"');
    expect(() => store.create({ name: 'x1', driver: 'nfs' })).toThrow('error looking up volume plugin nfs: plugin "nfs" not found');
    expect(fs.readdirSync(store.volumesDir).filter((n) => !n.startsWith('metadata.db'))).toEqual([]);
  });

  it('inspect/remove of a missing volume say "no such volume"', () => {
    expect(() => store.inspect('nope')).toThrow('get nope: no such volume');
    expect(codeOf(() => store.remove('nope'))).toBe('NotFound');
    expect(() => store.remove('nope')).toThrow('get nope: no such volume');
    expect(() => store.remove('nope', { force: true })).not.toThrow();
    expect(store.find('nope')).toBeUndefined();
  });

  it('lists with dangling, name, label and driver filters', () => {
    store.create({ name: 'alpha', labels: { env: 'prod', team: 'a' } });
    store.create({ name: 'beta', labels: { env: 'dev' } });
    store.create({ name: 'gamma' });
    store.acquire('beta', 'c1');
    const names = (f: Parameters<VolumeStore['list']>[0]): string[] => store.list(f).map((v) => v.Name);
    expect(names({})).toEqual(['alpha', 'beta', 'gamma']);
    expect(names({ dangling: true })).toEqual(['alpha', 'gamma']);
    expect(names({ dangling: false })).toEqual(['beta']);
    expect(names({ name: 'a' })).toEqual(['alpha', 'beta', 'gamma']);
    expect(names({ name: 'mm' })).toEqual(['gamma']);
    expect(names({ name: ['alp', 'bet'] })).toEqual(['alpha', 'beta']);
    // Regular expressions, as moby's filters.Args.Match reads them.
    expect(names({ name: '^a' })).toEqual(['alpha']);
    expect(names({ name: 'a$' })).toEqual(['alpha', 'beta', 'gamma']);
    expect(names({ name: '^(beta|gamma)$' })).toEqual(['beta', 'gamma']);
    expect(names({ name: 'g.m' })).toEqual(['gamma']);
    expect(names({ name: '(' })).toEqual([]); // not an expression: only an exact match
    // Backtracking traps would stall the supervisor for every client: refused with a 400-class error.
    for (const trap of ['(a+)+$', '(a|aa)*b', '(x*)*', '(.*a){12,}', '(a)\\1', 'a'.repeat(300)]) {
      expect(codeOf(() => store.list({ name: trap })), trap).toBe('InvalidOption');
    }
    expect(() => store.list({ name: '(a+)+$' })).toThrow("invalid filter 'name=(a+)+$': the expression repeats a group that itself repeats or alternates; use a plain name, a prefix (^app-) or a simpler expression");
    expect(names({ label: 'env' })).toEqual(['alpha', 'beta']);
    expect(names({ label: 'env=prod' })).toEqual(['alpha']);
    expect(names({ label: ['env', 'team=a'] })).toEqual(['alpha']);
    expect(names({ label: 'env=' })).toEqual([]);
    expect(names({ driver: 'local' })).toEqual(['alpha', 'beta', 'gamma']);
    expect(names({ driver: 'other' })).toEqual([]);
  });

  it('refuses to remove a volume in use, even with force, listing the containers', async () => {
    store.create({ name: 'busy' });
    store.acquire('busy', 'c1');
    store.acquire('busy', 'c2');
    store.acquire('busy', 'c2');
    expect(store.usedBy('busy')).toEqual(['c1', 'c2']);
    expect(() => store.remove('busy', { force: true })).toThrow('remove busy: volume is in use - [c1, c2]');
    expect(codeOf(() => store.remove('busy'))).toBe('InUse');
    store.release('busy', 'c1');
    store.release('busy', 'c1');
    expect(store.releaseAll('c2')).toEqual(['busy']);
    store.remove('busy');
    expect(fs.existsSync(path.join(store.volumesDir, 'busy'))).toBe(false);
    expect(await store.trashSettled()).toEqual([]);
    expect(fs.readdirSync(store.volumesDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('keeps references across a restart, and drops those of dead containers on request', () => {
    store.create({ name: 'kept' });
    store.create({ name: 'other' });
    store.acquire('kept', 'live');
    store.acquire('kept', 'dead');
    store.acquire('other', 'dead');
    store.close();
    store = open();
    expect(store.usedBy('kept')).toEqual(['live', 'dead']);
    expect(() => store.remove('kept')).toThrow('remove kept: volume is in use - [live, dead]');
    const dropped = store.reconcileReferences(new Set(['live']));
    expect(dropped).toHaveLength(2);
    expect(store.usedBy('kept')).toEqual(['live']);
    expect(store.usedBy('other')).toEqual([]);
  });

  it('prunes unused anonymous volumes by default, named ones with all, honouring label filters', () => {
    const anonUsed = store.create().Name;
    const anonFree = store.create().Name;
    store.create({ name: 'named', labels: { keep: 'no' } });
    store.create({ name: 'precious', labels: { keep: 'yes' } });
    store.acquire(anonUsed, 'c1');
    fs.writeFileSync(path.join(store.inspect(anonFree).Mountpoint, 'f'), 'x'.repeat(1000));
    expect(store.prune()).toEqual({ VolumesDeleted: [anonFree], SpaceReclaimed: 1000 });
    expect(store.prune({ all: true, filters: { 'label!': 'keep=yes' } }).VolumesDeleted).toEqual(['named']);
    expect(store.prune({ all: true, filters: { label: 'other' } }).VolumesDeleted).toEqual([]);
    expect(store.prune({ all: true }).VolumesDeleted).toEqual(['precious']);
    expect(store.list().map((v) => v.Name)).toEqual([anonUsed]);
  });

  it('reports usage counting hardlinks once', () => {
    const v = store.create({ name: 'sized' });
    fs.writeFileSync(path.join(v.Mountpoint, 'a'), Buffer.alloc(300));
    fs.linkSync(path.join(v.Mountpoint, 'a'), path.join(v.Mountpoint, 'b'));
    fs.mkdirSync(path.join(v.Mountpoint, 'd'));
    fs.writeFileSync(path.join(v.Mountpoint, 'd', 'c'), Buffer.alloc(50));
    store.acquire('sized', 'c1');
    expect(store.usage('sized')).toEqual({ name: 'sized', size: 350, refCount: 1 });
    expect(store.usage()).toEqual([{ name: 'sized', size: 350, refCount: 1 }]);
  });

  it('never follows a symlinked volume directory out of <root>/volumes on removal', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'precious'), 'keep me');
      fs.mkdirSync(path.join(outside, '_data'));
      store.create({ name: 'victim' });
      const dir = path.join(store.volumesDir, 'victim');
      fs.rmSync(dir, { recursive: true });
      fs.symlinkSync(outside, dir);
      expect(codeOf(() => store.remove('victim'))).toBe('UnsafePath');
      expect(fs.readFileSync(path.join(outside, 'precious'), 'utf8')).toBe('keep me');
      expect(codeOf(() => store.exportTar('victim'))).toBe('UnsafePath');
      // a symlink inside _data is removed as a link, its target untouched
      fs.unlinkSync(dir);
      fs.mkdirSync(path.join(dir, '_data'), { recursive: true });
      fs.symlinkSync(outside, path.join(dir, '_data', 'link'));
      store.remove('victim');
      expect(fs.readdirSync(outside).sort()).toEqual(['_data', 'precious']);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('repairs a crash between the directory and the metadata', () => {
    store.create({ name: 'good' });
    // crash after the rename, before the commit: a directory without a row
    fs.mkdirSync(path.join(store.volumesDir, 'halfmade', '_data'), { recursive: true });
    fs.writeFileSync(path.join(store.volumesDir, 'halfmade', '_data', 'user-file'), 'data');
    // crash before the rename: a staged temp of a dead process
    fs.mkdirSync(path.join(store.volumesDir, '.tmp-999999999-abc', '_data'), { recursive: true });
    // crash of a removal after its rename: metadata without a directory
    store.create({ name: 'gone' });
    fs.renameSync(path.join(store.volumesDir, 'gone'), path.join(store.volumesDir, '.tmp-999999998-def'));
    // something berth cannot adopt: reported, never deleted
    fs.mkdirSync(path.join(store.volumesDir, 'stray'));
    store.close();
    store = open();
    expect(store.openReport).toEqual({
      tempsRemoved: ['.tmp-999999998-def', '.tmp-999999999-abc'].sort(),
      adopted: ['halfmade'],
      orphans: ['stray'],
      missingData: ['gone'],
    });
    expect(store.list().map((v) => v.Name)).toEqual(['good', 'halfmade']);
    expect(fs.readFileSync(path.join(store.inspect('halfmade').Mountpoint, 'user-file'), 'utf8')).toBe('data');
    expect(fs.existsSync(path.join(store.volumesDir, 'stray'))).toBe(true);
    expect(store.reconcile()).toEqual({ tempsRemoved: [], adopted: [], orphans: ['stray'], missingData: [] });
  });

  it('rolls back the metadata when placing the directory fails', () => {
    // a non-directory squatting on the name makes the rename step refuse
    fs.writeFileSync(path.join(store.volumesDir, 'atomic'), 'not a volume');
    expect(codeOf(() => store.create({ name: 'atomic' }))).toBe('UnsafePath');
    expect(store.find('atomic')).toBeUndefined();
    expect(fs.readFileSync(path.join(store.volumesDir, 'atomic'), 'utf8')).toBe('not a volume');
    expect(fs.readdirSync(store.volumesDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('clones a volume into a new named one', () => {
    const v = store.create({ name: 'src', labels: { l: '1' } });
    fs.mkdirSync(path.join(v.Mountpoint, 'sub'));
    fs.writeFileSync(path.join(v.Mountpoint, 'sub', 'f'), 'hello');
    const c = store.clone('src', 'dst');
    expect(c.Labels).toEqual({ l: '1' });
    expect(fs.readFileSync(path.join(c.Mountpoint, 'sub', 'f'), 'utf8')).toBe('hello');
    expect(codeOf(() => store.clone('src', 'dst'))).toBe('AlreadyExists');
    expect(codeOf(() => store.clone('missing', 'dst2'))).toBe('NotFound');
  });

  it('acquires several volumes in one transaction: all are held, or none', () => {
    store.create({ name: 'va' });
    store.create({ name: 'vb' });
    expect(codeOf(() => store.acquireAll(['va', 'missing', 'vb'], 'c1'))).toBe('NotFound');
    expect(store.usedBy('va')).toEqual([]);
    const held = store.acquireAll(['va', 'vb'], 'c1');
    expect(held.map((v) => [v.name, v.dataDir, v.refCount])).toEqual([
      ['va', store.inspect('va').Mountpoint, 1], ['vb', store.inspect('vb').Mountpoint, 1],
    ]);
    expect([store.usedBy('va'), store.usedBy('vb')]).toEqual([['c1'], ['c1']]);
  });

  it('gives a starting container its data directory without the write lock when it holds the reference', () => {
    const v = store.create({ name: 'held' });
    store.acquire('held', 'c1');
    // Another process mid-write: a start that needed the lock would wait for it (busy_timeout), then fail.
    const other = new Database(path.join(root, 'volumes', 'metadata.db'));
    other.pragma('busy_timeout = 0');
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      expect(store.dataDirFor('held', 'c1')).toBe(v.Mountpoint);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    // Without the reference (made at create), it takes one, as acquire does.
    expect(store.dataDirFor('held', 'c2')).toBe(v.Mountpoint);
    expect(store.usedBy('held')).toEqual(['c1', 'c2']);
    expect(codeOf(() => store.dataDirFor('missing', 'c1'))).toBe('NotFound');
  });

  describe('driver-option volumes', () => {
    it('refuse to mount without berth\'s mount namespace', () => {
      store.create({ name: 'tmp', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
      expect(codeOf(() => store.acquire('tmp', 'c1'))).toBe('NoMountNamespace');
      expect(rec.callsOf('mount')).toEqual([]);
      // the failed acquire left no reference behind
      expect(store.usedBy('tmp')).toEqual([]);
    });

    it('mount in the namespace on first acquire and unmount after the last release', () => {
      store.close();
      const ns = PrivateMountNamespace.fromFd(rec.syscalls, 77);
      store = open({ ns });
      const v = store.create({ name: 'tmp', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,noexec' } });
      expect(v.Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,noexec' });
      rec.clear();
      expect(store.acquire('tmp', 'c1').driverMounted).toBe(true);
      expect(store.acquire('tmp', 'c2').refCount).toBe(2);
      expect(rec.callsOf('mount')).toEqual([['tmpfs', v.Mountpoint, 'tmpfs', 8, 'size=1m']]);
      // the mount happened between setns into the namespace and setns back
      const names = rec.names();
      expect(names.indexOf('setns')).toBeLessThan(names.indexOf('mount'));
      expect(rec.callsOf('setns')[0]).toEqual([77, CLONE_NEWNS]);
      store.release('tmp', 'c1');
      expect(rec.callsOf('umount2')).toEqual([]);
      store.release('tmp', 'c2');
      expect(rec.callsOf('umount2')).toEqual([[v.Mountpoint, MNT_DETACH]]);
    });

    it('are mounted again for a starting container that holds one a restart left unmounted', () => {
      store.close();
      store = open({ ns: PrivateMountNamespace.fromFd(rec.syscalls, 77) });
      const v = store.create({ name: 'tmp', options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
      store.acquire('tmp', 'c1');
      // A new store (a supervisor restart) has not mounted it.
      store.close();
      store = open({ ns: PrivateMountNamespace.fromFd(rec.syscalls, 77) });
      rec.clear();
      expect(store.dataDirFor('tmp', 'c1')).toBe(v.Mountpoint);
      expect(rec.callsOf('mount')).toEqual([['tmpfs', v.Mountpoint, 'tmpfs', 0, 'size=1m']]);
      rec.clear();
      expect(store.dataDirFor('tmp', 'c1')).toBe(v.Mountpoint);
      expect(rec.callsOf('mount')).toEqual([]);
    });

    it('a failed mount leaves no reference', () => {
      store.close();
      store = open({ ns: PrivateMountNamespace.fromFd(rec.syscalls, 77) });
      store.create({ name: 'tmp', options: { type: 'tmpfs', device: 'tmpfs' } });
      rec.failNext('mount', 'ENODEV');
      expect(() => store.acquire('tmp', 'c1')).toThrow(/failed to mount volume tmp .*ENODEV/);
      expect(store.usedBy('tmp')).toEqual([]);
    });
  });
});
