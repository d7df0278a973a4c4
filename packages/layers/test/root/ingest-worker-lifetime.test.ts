/**
 * The ingest workers' lifetime (issue 16, idle RSS): a store opened with
 * `unpackInWorker`, as the supervisor opens it, starts no worker until its
 * first import; the worker that served it waits idle for the next one and
 * exits after its idle wait, so an idle supervisor keeps no ingest isolate.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { describeRoot } from '@berth/testing';
// The built package: the worker thread runs dist/worker/ingest-worker.js, and the counts live in that module.
import { LayerStore, ingestWorkerCounts, setIdleWorkerExitMs } from '@berth/layers';
import { dockerSave, sampleLayers } from '../fixtures.js';

describeRoot('ingest worker lifetime', () => {
  let dir: string;
  let archive: string;
  let previousWait: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-ingest-lifetime-'));
    archive = join(dir, 'image.tar');
    writeFileSync(archive, await dockerSave([{ layers: await sampleLayers(), tags: ['lifetime:1'] }]));
    previousWait = setIdleWorkerExitMs(60_000);
  });
  afterAll(() => {
    setIdleWorkerExitMs(previousWait);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts no worker when a store opens, one at the first import, and reuses the idle one', async () => {
    const before = ingestWorkerCounts();
    const store = LayerStore.open(join(dir, 'a'), { syscalls: new LinuxSyscalls(), unpackInWorker: true });
    try {
      expect(ingestWorkerCounts()).toEqual(before);
      await store.importImage(archive);
      expect(store.findImage('lifetime:1')).toBeDefined();
      const afterFirst = ingestWorkerCounts();
      expect(afterFirst.started).toBe(before.started + (before.idle > 0 ? 0 : 1));
      expect(afterFirst.idle).toBeGreaterThanOrEqual(1);
      await store.importImage(archive, { tag: 'lifetime:2' });
      expect(ingestWorkerCounts().started).toBe(afterFirst.started);
    } finally {
      store.close();
    }
  });

  it('ends an idle worker after its idle wait, and starts a new one for the next import', async () => {
    const store = LayerStore.open(join(dir, 'b'), { syscalls: new LinuxSyscalls(), unpackInWorker: true });
    try {
      setIdleWorkerExitMs(50);
      await store.importImage(archive);
      expect(ingestWorkerCounts().idle).toBeGreaterThanOrEqual(1);
      await vi.waitFor(() => expect(ingestWorkerCounts().idle).toBe(0), { timeout: 20_000, interval: 20 });
      const gone = ingestWorkerCounts().started;
      await store.importImage(archive, { tag: 'lifetime:3' });
      expect(ingestWorkerCounts().started).toBe(gone + 1);
      expect(store.findImage('lifetime:3')).toBeDefined();
    } finally {
      setIdleWorkerExitMs(60_000);
      store.close();
    }
  });
});
