import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerStore, type ContainerRecord } from '../../src/container-store.js';

function record(id: string, name: string): ContainerRecord {
  return {
    id, name, image: 'busybox', imageId: 'sha256:' + 'a'.repeat(64), config: { Cmd: ['sh'] }, hostConfig: {}, mounts: [],
    state: 'created', pid: 0, startTime: 0, exitCode: 0, error: '', oomKilled: false, created: new Date().toISOString(),
    startedAt: '', finishedAt: '', autoRemove: false, anonymousVolumes: [], restartCount: 0, manuallyStopped: false,
  };
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
      mounts: [{ Type: 'volume', Name: 'v1', Source: '/x', Destination: '/d', Mode: '', RW: true, Propagation: '' }],
    });
    store.close();
    store = ContainerStore.open(join(dir, 'supervisor.db'));
    const rec = store.get('3'.repeat(64));
    expect(rec).toMatchObject({ state: 'exited', exitCode: 7, oomKilled: true, anonymousVolumes: ['v1'] });
    expect(rec.mounts[0]!.Name).toBe('v1');
    expect(store.listByState('exited').map((r) => r.name)).toEqual(['job']);
    store.delete('3'.repeat(64));
    expect(store.find('3'.repeat(64))).toBeUndefined();
  });
});
