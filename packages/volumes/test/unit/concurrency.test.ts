import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingSyscalls } from '@berth/syscall/testing';
import { VolumeStore } from '../../src/store.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');

describe('two processes against one root', () => {
  let root: string;
  beforeAll(() => {
    // The child processes run the built package: build it first (incremental).
    execFileSync('npx', ['tsc', '-b', 'packages/volumes'], { cwd: repo, stdio: 'inherit' });
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-conc-'));
  }, 120_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('end consistent: every row has its directory and every directory its row', async () => {
    const script = path.join(here, '../helpers/churn.mjs');
    const results = await Promise.all(
      ['1', '2'].map((id) =>
        run(process.execPath, [script, root, id, '400'], { cwd: here }).catch((e: { stderr?: string; message: string }) => {
          throw new Error(`churn worker ${id} failed: ${e.stderr ?? e.message}`);
        }),
      ),
    );
    for (const r of results) expect(JSON.parse(r.stdout).ops).toBeGreaterThan(100);
    const store = VolumeStore.open(root, { syscalls: new RecordingSyscalls().syscalls });
    try {
      // The churn processes closed their stores with removals perhaps still in their trash: emptied now.
      const { trashEmptied: _left, ...report } = store.openReport;
      expect(report).toEqual({ tempsRemoved: [], adopted: [], orphans: [], missingData: [] });
      expect(await store.trashSettled()).toEqual([]);
      const rows = store.list().map((v) => v.Name).sort();
      const dirs = fs.readdirSync(store.volumesDir).filter((n) => !n.startsWith('metadata.db')).sort();
      expect(dirs).toEqual(rows);
      for (const name of rows) expect(fs.statSync(path.join(store.volumesDir, name, '_data')).isDirectory()).toBe(true);
      for (const name of rows) expect(store.usedBy(name)).toEqual([]);
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 120_000);
});
