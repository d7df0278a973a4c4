import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { VolumeStore } from '../../src/store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const pruneScript = path.join(here, '../helpers/prune.mjs');

/** Every row has its directory and every directory its row; nothing half-deleted is visible. */
function expectConsistent(store: VolumeStore): string[] {
  const rows = store.list().map((v) => v.Name).sort();
  const dirs = fs.readdirSync(store.volumesDir).filter((n) => !n.startsWith('metadata.db') && n !== '.trash').sort();
  expect(dirs).toEqual(rows);
  for (const name of rows) expect(fs.statSync(path.join(store.volumesDir, name, '_data')).isDirectory()).toBe(true);
  return rows;
}

function trashEntries(volumesDir: string): number {
  const trash = path.join(volumesDir, '.trash');
  let n = 0;
  try {
    for (const batch of fs.readdirSync(trash)) n += fs.readdirSync(path.join(trash, batch)).length;
  } catch {
    return n; // not made yet, or a batch emptied while we looked
  }
  return n;
}

describe('the trash: removals committed in one transaction, deleted off the request', () => {
  let root: string;
  let store: VolumeStore;
  const open = (): VolumeStore => VolumeStore.open(root, { syscalls: new RecordingSyscalls().syscalls });
  const fill = (n: number): void => {
    for (let i = 0; i < n; i++) store.create({ name: `v${i}` });
  };

  beforeAll(() => {
    // The child processes run the built package (and the emptier its compiled worker): build it first.
    execFileSync('npx', ['tsc', '-b', 'packages/volumes'], { cwd: repo, stdio: 'inherit' });
  }, 120_000);
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-trash-'));
    store = open();
  });
  afterEach(() => {
    store.close();
    // rmdir is slow on a filesystem mounted with `discard` (this machine's): thousands take seconds.
    fs.rmSync(root, { recursive: true, force: true });
  }, 120_000);

  it('prune moves the directories into one trash batch and the worker empties it', async () => {
    fill(20);
    fs.writeFileSync(path.join(store.inspect('v3').Mountpoint, 'f'), 'x'.repeat(700));
    store.acquire('v5', 'c1');
    const report = store.prune({ all: true });
    expect(report.VolumesDeleted).toHaveLength(19);
    expect(report.SpaceReclaimed).toBe(700);
    expect(expectConsistent(store)).toEqual(['v5']);
    expect(await store.trashSettled()).toEqual([]);
    expect(fs.existsSync(path.join(store.volumesDir, '.trash'))).toBe(false);
  });

  it('prune skips a volume whose directory was swapped for a symlink, and prunes the rest', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
    try {
      fs.mkdirSync(path.join(outside, '_data'));
      fs.writeFileSync(path.join(outside, 'precious'), 'keep me');
      fill(3);
      const dir = path.join(store.volumesDir, 'v1');
      fs.rmSync(dir, { recursive: true });
      fs.symlinkSync(outside, dir);
      expect(store.prune({ all: true }).VolumesDeleted).toEqual(['v0', 'v2']);
      expect(await store.trashSettled()).toEqual([]);
      expect(store.list().map((v) => v.Name)).toEqual(['v1']);
      expect(fs.readFileSync(path.join(outside, 'precious'), 'utf8')).toBe('keep me');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('removeMany removes in one transaction and reports each name it could not remove', async () => {
    fill(4);
    store.acquire('v2', 'c1');
    const { removed, errors } = store.removeMany(['v0', 'nope', 'v2', 'v3']);
    expect(removed).toEqual(['v0', 'v3']);
    expect(errors.map((e) => [e.name, e.error.code])).toEqual([['nope', 'NotFound'], ['v2', 'InUse']]);
    expect(store.removeMany(['nope'], { force: true })).toEqual({ removed: [], errors: [] });
    expect(await store.trashSettled()).toEqual([]);
    expect(expectConsistent(store)).toEqual(['v1', 'v2']);
  });

  it('a SIGKILL in the middle of a prune leaves every volume whole: the next open puts the moved ones back', async () => {
    const n = 2000;
    fill(n);
    store.close();
    const child = spawn(process.execPath, [pruneScript, root], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const volumesDir = path.join(fs.realpathSync(root), 'volumes');
    // Watch the renames happen; kill while fewer than half are done (the commit comes after all of them).
    let seen = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let done = false;
    void exited.then(() => { done = true; });
    while (!done) {
      seen = trashEntries(volumesDir);
      if (seen > 0 && seen < n / 2) {
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, `the prune finished before it could be killed: ${stderr}`).toBe('SIGKILL');
    expect(seen).toBeGreaterThan(0);
    store = open();
    expect(store.openReport.restored?.length ?? 0).toBeGreaterThanOrEqual(seen);
    expect(store.openReport.missingData).toEqual([]);
    expect(expectConsistent(store)).toHaveLength(n);
    expect(await store.trashSettled()).toEqual([]);
    expect(fs.existsSync(path.join(store.volumesDir, '.trash'))).toBe(false);
  }, 60_000);

  it('a SIGKILL right after a prune returns leaves its trash, emptied by the next open', async () => {
    fill(200);
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(store.inspect('v7').Mountpoint, `f${i}`), 'x');
    store.close();
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
      spawn(process.execPath, [pruneScript, root, 'kill-after'], { cwd: here, stdio: 'ignore' }).on('exit', (_c, s) => resolve(s));
    });
    expect(signal).toBe('SIGKILL');
    store = open();
    expect(store.openReport.trashEmptied).toHaveLength(1);
    expect(store.openReport.restored).toBeUndefined();
    expect(expectConsistent(store)).toEqual([]);
    expect(await store.trashSettled()).toEqual([]);
    expect(fs.existsSync(path.join(store.volumesDir, '.trash'))).toBe(false);
  }, 60_000);
});
