import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../src/container-store.js';
import { containerRecord } from '../helpers/records.js';

function record(id: string, name: string): ContainerRecord {
  return containerRecord({ id, name });
}

describe('ContainerStore', () => {
  let dir: string;
  let store: ContainerStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
    store = ContainerStore.open(join(dir, 'supervisor.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves full ids, names, "/names" and unique prefixes, and refuses ambiguous prefixes', () => {
    store.insert(record('ab' + '0'.repeat(62), 'one'));
    store.insert(record('ac' + '0'.repeat(62), 'two'));
    expect(store.resolve('ab' + '0'.repeat(62)).name).toBe('one');
    expect(store.resolve('one').id).toBe('ab' + '0'.repeat(62));
    expect(store.resolve('/two').id).toBe('ac' + '0'.repeat(62));
    expect(store.resolve('ab').name).toBe('one');
    expect(() => store.resolve('a')).toThrow(/multiple IDs/);
    expect(() => store.resolve('nope')).toThrow('No such container: nope');
    expect(() => store.resolve('')).toThrow(/No such container/);
  });

  it('keeps names unique with docker\'s conflict message', () => {
    store.insert(record('1'.repeat(64), 'web'));
    expect(() => store.insert(record('2'.repeat(64), 'web'))).toThrow(/The container name "\/web" is already in use/);
  });

  it('round-trips updates and survives a reopen (WAL, migrations applied once)', () => {
    store.insert(record('3'.repeat(64), 'job'));
    store.update('3'.repeat(64), {
      state: 'exited', exitCode: 7, oomKilled: true, anonymousVolumes: ['v1'],
      mounts: [{ type: 'volume', source: 'v1', destination: '/d', readOnly: false, propagation: 'rprivate', recursive: 'enabled', createSource: false, nocopy: false, anonymous: true }],
    });
    store.close();
    store = ContainerStore.open(join(dir, 'supervisor.db'));
    const rec = store.get('3'.repeat(64));
    expect(rec).toMatchObject({ state: 'exited', exitCode: 7, oomKilled: true, anonymousVolumes: ['v1'] });
    expect(rec.mounts[0]!.source).toBe('v1');
    expect(rec.hostConfig.ShmSize).toBe(64 << 20);
    expect(rec.networkingConfig).toEqual({ EndpointsConfig: {} });
    expect(store.listByState('exited').map((r) => r.name)).toEqual(['job']);
    store.delete('3'.repeat(64));
    expect(store.find('3'.repeat(64))).toBeUndefined();
  });

  it('upgrades a version-2 store, which kept requests, into resolved records once', () => {
    store.close();
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE containers (
       id TEXT PRIMARY KEY CHECK (length(id) = 64), name TEXT NOT NULL UNIQUE, image TEXT NOT NULL, image_id TEXT NOT NULL,
       config TEXT NOT NULL, host_config TEXT NOT NULL, mounts TEXT NOT NULL DEFAULT '[]',
       state TEXT NOT NULL CHECK (state IN ('created','running','exited','removing','dead')), pid INTEGER NOT NULL DEFAULT 0,
       start_time INTEGER NOT NULL DEFAULT 0, exit_code INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
       oom INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, started_at TEXT NOT NULL DEFAULT '', finished_at TEXT NOT NULL DEFAULT '',
       auto_remove INTEGER NOT NULL DEFAULT 0, anonymous_volumes TEXT NOT NULL DEFAULT '[]');
     ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;
     PRAGMA user_version = 2;`);
    db.prepare(`INSERT INTO containers (id, name, image, image_id, config, host_config, mounts, state, created)
      VALUES (?, 'old', 'busybox', 'sha256:x', ?, ?, ?, 'exited', '2024-01-01T00:00:00Z')`).run(
      '4'.repeat(64), JSON.stringify({ Cmd: ['sh'], Env: ['A=1'] }), JSON.stringify({ Binds: ['data:/d'], Memory: 0, MaskedPaths: null }),
      JSON.stringify([{ Type: 'volume', Name: 'data', Source: '/r/volumes/data/_data', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]),
    );
    db.close();
    store = ContainerStore.open(path);
    const rec = store.get('4'.repeat(64));
    expect(rec.hostConfig).toMatchObject({ Binds: ['data:/d'], ShmSize: 64 << 20, LogConfig: { Type: 'json-file', Config: {} } });
    expect(rec.hostConfig.MaskedPaths).toContain('/proc/kcore');
    expect(rec.config).toMatchObject({ Cmd: ['sh'], Env: ['A=1'], Hostname: '444444444444', Image: 'busybox', Labels: {} });
    expect(rec.mounts).toEqual([{
      type: 'volume', source: 'data', destination: '/d', readOnly: false, propagation: 'rprivate', recursive: 'enabled',
      createSource: false, nocopy: true, anonymous: false, mode: 'z',
    }]);
  });
});
