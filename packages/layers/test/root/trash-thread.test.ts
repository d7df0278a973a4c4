/**
 * The trash deletes in the background on its own worker thread (issue 16,
 * item 3: deletions in a worker, not as main-thread callbacks): the caller
 * pays a rename and a message, `idle` resolves once the directory is gone.
 * Root only because it uses the built package, whose worker file sits
 * beside it (the TypeScript sources fall back to fs.promises.rm).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRoot } from '@berth/testing';
// The built package: its worker file is dist/trash-worker.js.
import { Trash, trashThreadsStarted } from '@berth/layers';

describeRoot('the trash thread', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-trash-thread-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('renames at once, deletes on its thread, and idle() waits for the deletion', async () => {
    const before = trashThreadsStarted();
    const parent = join(dir, 'parent');
    const victim = join(parent, 'victim');
    for (let d = 0; d < 20; d++) {
      mkdirSync(join(victim, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(victim, `d${d}`, `f${f}`), 'x');
    }
    const trash = new Trash();
    trash.discard(victim);
    // Out of sight at once, under a .del- name, 2,000 files not yet deleted.
    const left = readdirSync(parent);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.del-/);
    await trash.idle();
    expect(readdirSync(parent)).toEqual([]);
    expect(trashThreadsStarted()).toBe(before + 1);
    // The thread is kept for the next deletion.
    mkdirSync(victim);
    trash.discard(victim);
    await trash.idle();
    expect(readdirSync(parent)).toEqual([]);
    expect(trashThreadsStarted()).toBe(before + 1);
  });
});
