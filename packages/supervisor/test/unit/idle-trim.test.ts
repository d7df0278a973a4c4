/**
 * The idle trim (issue 16, idle RSS): malloc's freed memory goes back to the
 * kernel after a burst of requests, in quiet periods only, never while
 * requests arrive; the supervisor wires it to its API server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '@berth/volumes';
import { IdleTrimmer, LATE_TRIM_TICK } from '../../src/idle-trim.js';
import { Supervisor } from '../../src/supervisor.js';
import { FakeEngine, FakeImages } from '../helpers/fake-engine.js';

describe('IdleTrimmer', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('trims on the first and the late quiet tick after start-up and after each burst, never in a period that saw a request', () => {
    vi.useFakeTimers();
    let trims = 0;
    const trimmer = new IdleTrimmer(() => { trims += 1; }, 1000);
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(1); // start-up work counts as a burst
    vi.advanceTimersByTime((LATE_TRIM_TICK - 1) * 1000);
    expect(trims).toBe(2); // once more when V8's memory reducer has run
    vi.advanceTimersByTime(20_000);
    expect(trims).toBe(2); // quiet: nothing more to give back
    for (let i = 0; i < 10; i++) {
      trimmer.activity();
      vi.advanceTimersByTime(1000);
    }
    expect(trims).toBe(2); // requests in every period: never trimmed under load
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(3); // the first quiet period after the burst
    trimmer.activity(); // a request between the two trims starts the count again
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(3);
    vi.advanceTimersByTime(1000);
    expect(trims).toBe(4);
    vi.advanceTimersByTime((LATE_TRIM_TICK - 1) * 1000);
    expect(trims).toBe(5);
    vi.advanceTimersByTime(20_000);
    expect(trims).toBe(5);
    trimmer.close();
    trimmer.activity();
    vi.advanceTimersByTime(20_000);
    expect(trims).toBe(5);
  });
});

describe('the supervisor trims when its API goes quiet', () => {
  let root: string | undefined;
  let sup: Supervisor | undefined;
  afterEach(async () => {
    await sup?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('calls mallocTrim after start-up and again after a request', { timeout: 30_000 }, async () => {
    root = mkdtempSync(join(tmpdir(), 'berth-idle-trim-'));
    const socketPath = join(root, 'berth.sock');
    const syscalls = new LinuxSyscalls();
    const trim = vi.spyOn(syscalls, 'mallocTrim');
    const volumes = VolumeStore.open(root, { syscalls });
    sup = await Supervisor.start({ root, socketPath, idleTrimMs: 20, log: () => undefined }, {
      engine: new FakeEngine(), images: new FakeImages(), volumes, syscalls, close: () => volumes.close(), networks: false,
    });
    // Start-up counts as a burst: its two trims, then none until a request comes.
    await vi.waitFor(() => expect(trim.mock.calls.length).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath, path: '/_ping' }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.end();
    });
    await vi.waitFor(() => expect(trim.mock.calls.length).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 10 });
  });
});
