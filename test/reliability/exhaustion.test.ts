/**
 * Resource exhaustion: a berth root on a small tmpfs, filled during a volume
 * import and by a container's writes. The scenario runs in a child process
 * in its own mount namespace (`unshare -m`), so the tmpfs never appears in
 * the host's mount table; it prints its observations as JSON.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO, describeRoot, hostMountTable, mountTableChanges } from '@berth/testing';

const SCENARIO = fileURLToPath(new URL('./harness/exhaustion-scenario.mjs', import.meta.url));
const SIZE_MB = 32;

interface Run { exitCode?: number; output?: string; error?: string; cleanupError?: string }
interface Outcome {
  importError: string | null;
  afterImport: { volumes: string[]; entries: string[] };
  fill: Run;
  createWhileFull: string;
  reopenWhileFull: string;
  reopenAfterFree: string;
  reopened: { volumesReport: { tempsRemoved: string[]; adopted: string[]; orphans: string[]; missingData: string[] }; layersReport: Record<string, string[]>; integrity: Record<string, string> };
  importAfterFree: number | string;
  createAfterFree: string;
  runAfterFree: Run;
  finalReconcile: { tempsRemoved: string[]; adopted: string[]; orphans: string[]; missingData: string[] };
  finalIntegrity: string;
}

describeRoot(`resource exhaustion: a ${SIZE_MB} MB root filled up`, () => {
  let dir: string;
  let mountsBefore: string;
  let out: Outcome;

  beforeAll(() => {
    mountsBefore = hostMountTable();
    dir = mkdtempSync(join(tmpdir(), 'berth-enospc-'));
    const text = execFileSync('unshare', ['-m', process.execPath, SCENARIO, dir, String(SIZE_MB)], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    out = JSON.parse(text.trim().split('\n').at(-1)!) as Outcome;
  }, 150_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    expect(mountTableChanges(mountsBefore), 'the tmpfs leaked into the host mount table').toEqual([]);
  });

  it('a volume import larger than the disk fails with a clear ENOSPC error and leaves no volume or staging behind', () => {
    expect(out.importError).toMatch(/^NoSpace failed to import into volume big: no space left on device; nothing was imported, free space and retry/);
    expect(out.afterImport.volumes).toEqual([]);
    expect(out.afterImport.entries.filter((e) => !e.startsWith('metadata.db'))).toEqual([]);
  });

  it('a container filling the disk through its volume gets ENOSPC inside; berth reports the metadata write failure clearly', () => {
    expect(out.fill.error, JSON.stringify(out.fill)).toBeUndefined();
    expect(out.fill.output).toMatch(/No space left on device/);
    expect(out.createWhileFull).toMatch(/ok|disk is full|ENOSPC|no space/i);
  });

  it('the metadata is not corrupted: reopened after freeing space, integrity_check ok, no orphans', () => {
    expect(out.reopenAfterFree).toBe('ok');
    expect(out.reopened.integrity).toEqual({ volumes: 'ok', layers: 'ok' });
    expect(out.reopened.volumesReport.orphans).toEqual([]);
    // A create refused on the full disk left nothing that the reopen would adopt as a volume.
    expect(out.reopened.volumesReport.adopted).toEqual(out.createWhileFull === 'ok' ? expect.anything() : []);
    expect(out.reopened.volumesReport.missingData).toEqual([]);
    expect(Object.values(out.reopened.layersReport).flat()).toEqual([]);
    expect(out.finalIntegrity).toBe('ok');
    expect(out.finalReconcile).toEqual({ tempsRemoved: [], adopted: [], orphans: [], missingData: [] });
  });

  it('recovers once space is freed: import, create and a container run succeed', () => {
    expect(out.importAfterFree).toBe(1);
    expect(out.createAfterFree).toBe('ok');
    expect(out.runAfterFree).toMatchObject({ exitCode: 0, output: 'recovered\n' });
  });

  it('stores can be reopened (a supervisor restart) while the disk is still full', () => {
    expect(out.reopenWhileFull).toBe('ok');
  });
});
