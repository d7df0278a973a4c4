/**
 * The idle trim (issue 16, idle RSS): malloc's freed memory goes back to the
 * kernel once per burst of requests, after a quiet period, never while
 * requests arrive; the supervisor wires it to its API server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '@berth/volumes';
import { IdleTrimmer } from '../../src/idle-trim.js';
import { Supervisor } from '../../src/supervisor.js';
import { FakeEngine, FakeImages } from '../helpers/fake-engine.js';

describe('IdleTrimmer', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('trims once after start-up, once after each burst, and never in a period that saw a request', () => {
    vi.useFakeTimers();
    let trims = 0;
    const trimmer = new IdleTrimmer(() => { trims += 1; }, 1000);
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(1); // start-up work counts as a burst
    vi.advanceTimersByTime(5000);
    expect(trims).toBe(1); // quiet: nothing more to give back
    for (let i = 0; i < 5; i++) {
      trimmer.activity();
      vi.advanceTimersByTime(1000);
    }
    expect(trims).toBe(1); // requests in every period: never trimmed under load
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(2); // the first quiet period after the burst
    vi.advanceTimersByTime(10_000);
    expect(trims).toBe(2);
    trimmer.close();
    trimmer.activity();
    vi.advanceTimersByTime(10_000);
    expect(trims).toBe(2);
  });
});

describe('the supervisor trims when its API goes quiet', () => {
  let root: string | undefined;
  let sup: Supervisor | undefined;
  afterEach(async () => {
    await sup?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('calls mallocTrim after start-up and again after a request', async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-idle-trim-'));
    const socketPath = join(root, 'berth.sock');
    const syscalls = new LinuxSyscalls();
    const trim = vi.spyOn(syscalls, 'mallocTrim');
    const volumes = VolumeStore.open(root, { syscalls });
    sup = await Supervisor.start({ root, socketPath, idleTrimMs: 20, log: () => undefined }, {
      engine: new FakeEngine(), images: new FakeImages(), volumes, syscalls, close: () => volumes.close(), networks: false,
    });
    await vi.waitFor(() => expect(trim).toHaveBeenCalledTimes(1), { timeout: 10_000, interval: 10 });
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath, path: '/_ping' }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end();
    });
    await vi.waitFor(() => expect(trim).toHaveBeenCalledTimes(2), { timeout: 10_000, interval: 10 });
  });
});
