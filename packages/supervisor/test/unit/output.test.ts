import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContainerStore } from '../../src/container-store.js';
import type { Lifecycle } from '../../src/lifecycle.js';
import { type LogRecord, readLog } from '../../src/json-log.js';
import { readOffsets, utf8Boundary, writeOffsets } from '../../src/output-follower.js';
import { containerPaths } from '../../src/stdio.js';
import { LifecycleFixture } from '../helpers/lifecycle-fixture.js';

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('container output survives the supervisor (append-only files + saved offsets)', () => {
  let f: LifecycleFixture;
  let root: string;
  let store: ContainerStore;
  let lc: Lifecycle;
  const open = (): Lifecycle => f.open();

  beforeEach(() => {
    f = new LifecycleFixture('berth-out-');
    ({ root, store, lc } = f);
  });
  afterEach(() => f.dispose());

  const rawLog = (id: string): string => readFileSync(containerPaths(root, id).log, 'utf8');
  const records = (id: string): LogRecord[] => rawLog(id).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogRecord);
  const text = (id: string, stream = 'stdout'): string => records(id).filter((r) => r.stream === stream).map((r) => r.log).join('');
  const numbered = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

  it('keeps every line of a container that exits while the supervisor is down, in order, with its exit code', async () => {
    const N = 400;
    const script = `i=0; while [ $i -lt ${N} ]; do i=$((i+1)); echo "line $i"; [ $((i % 50)) -eq 0 ] && sleep 0.05; done; exit 3`;
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', script] });
    await lc.start(Id);
    const pid = store.get(Id).pid;
    await until('some output in the log', () => existsSync(containerPaths(root, Id).log) && text(Id).includes('line 20\n'));
    lc.close(); // the supervisor is gone from here on
    await until('the container to finish on its own', () => !alive(pid));
    expect(text(Id)).not.toContain(`line ${N}\n`); // it really wrote on while nobody converted
    lc = open();
    expect(await lc.recover()).toEqual({ adopted: [], exited: [Id] });
    await lc.settle();
    expect(store.get(Id)).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(text(Id)).toBe(numbered(N));
  });

  it('never blocks a container that writes more than 1 MiB while the supervisor is down', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.2; head -c 3000000 /dev/zero | tr "\\0" x; echo; echo done >&2; exit 6'] });
    await lc.start(Id);
    const pid = store.get(Id).pid;
    lc.close();
    // A pipe would stall it at 64 KiB until someone reads.
    await until('the container to finish on its own', () => !alive(pid), 10_000);
    lc = open();
    await lc.recover();
    await lc.settle();
    expect(store.get(Id)).toMatchObject({ state: 'exited', exitCode: 6 });
    expect(text(Id)).toBe('x'.repeat(3_000_000) + '\n');
    expect(text(Id, 'stderr')).toBe('done\n');
  });

  it('writes valid Docker json-file lines, UTF-8 cut by a read kept whole, and wakes attached clients in order', async () => {
    // 3-byte characters, so 64 KiB reads cut through some of them; a line far longer than one read.
    const script = 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "€uro $i ✓"; done; yes é€ | head -n 50000 | tr -d "\\n"; echo; echo "warn ☃" >&2';
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', script] });
    const live: LogRecord[] = [];
    let ended = false;
    lc.channel(Id).on('record', (r: LogRecord) => live.push(r));
    lc.channel(Id).on('end', () => { ended = true; });
    const w = lc.wait(Id, 'next-exit');
    await lc.start(Id);
    await w.result;
    expect(ended).toBe(true);
    for (const line of rawLog(Id).split('\n').slice(0, -1)) {
      const rec = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(rec)).toEqual(['log', 'stream', 'time']);
      expect(['stdout', 'stderr']).toContain(rec['stream']);
      expect(rec['time']).toMatch(RFC3339_NANO);
      expect(typeof rec['log']).toBe('string');
    }
    expect(rawLog(Id).endsWith('\n')).toBe(true);
    const expected = Array.from({ length: 3000 }, (_, i) => `€uro ${i + 1} ✓\n`).join('') + 'é€'.repeat(50_000) + '\n';
    expect(text(Id).includes('\ufffd')).toBe(false);
    expect(text(Id) === expected).toBe(true);
    expect(text(Id, 'stderr')).toBe('warn ☃\n');
    // What an attached client saw is exactly what the log holds.
    expect(live).toEqual(records(Id));
  });

  it('converts a line without its newline while the container still runs (a prompt)', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'printf "password: "; sleep 3'] });
    await lc.start(Id);
    await until('the prompt in the log', () => existsSync(containerPaths(root, Id).log) && text(Id) === 'password: ', 2_000);
    await lc.kill(Id);
  });

  it('after a crash between appending and saving the offsets, repeats a chunk but loses none, and mends a torn line', async () => {
    const { Id } = await lc.create({ Image: 'busybox', Cmd: ['sh', '-c', 'seq 1 100; sleep 0.5; seq 101 200; exit 2'] });
    await lc.start(Id);
    const paths = containerPaths(root, Id);
    await until('the first lines in the log', () => existsSync(paths.log) && text(Id).includes('100\n'));
    lc.close();
    // What a SIGKILL at the worst moments leaves: offsets that lag behind the log, and a half-written record.
    const saved = readOffsets(paths.offsets);
    expect(saved.stdout).toBe(Buffer.byteLength(Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join('')));
    writeOffsets(paths.offsets, { ...saved, stdout: saved.stdout - 4 }); // "100\n" converted, but not yet saved
    appendFileSync(paths.log, '{"log":"tor');
    lc = open();
    await lc.recover();
    await lc.settle();
    expect(store.get(Id)).toMatchObject({ state: 'exited', exitCode: 2 });
    // As `docker logs` reads it: the torn record is skipped, the one after it is whole.
    const lines = readLog(paths.log, { stdout: true, stderr: true }).map((r) => r.log).join('').split('\n').filter((l) => l !== '');
    const firstSeen = [...new Set(lines)];
    expect(firstSeen).toEqual(Array.from({ length: 200 }, (_, i) => String(i + 1)));
    expect(lines.length - firstSeen.length).toBeLessThanOrEqual(1); // "100" again: duplicated, never lost
    expect(rawLog(Id)).toContain('{"log":"tor\n');
  });
});

describe('output conversion helpers', () => {
  it('cuts a read only on UTF-8 character boundaries', () => {
    const b = Buffer.from('a€b✓', 'utf8'); // 1 + 3 + 1 + 3 bytes
    expect(utf8Boundary(b, b.length)).toBe(8);
    expect(utf8Boundary(b, 7)).toBe(5);
    expect(utf8Boundary(b, 6)).toBe(5);
    expect(utf8Boundary(b, 3)).toBe(1);
    expect(utf8Boundary(Buffer.from([0x80, 0x80]), 2)).toBe(2); // not UTF-8: take it as it is
  });

  it('reads offsets written with temp + rename, and treats a missing or garbled file as zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-off-'));
    try {
      const p = join(dir, 'offsets');
      expect(readOffsets(p)).toEqual({ stdout: 0, stderr: 0 });
      writeOffsets(p, { stdout: 12, stderr: 3 });
      expect(readOffsets(p)).toEqual({ stdout: 12, stderr: 3 });
      expect(existsSync(`${p}.tmp`)).toBe(false);
      writeFileSync(p, '{"stdout":-1');
      expect(readOffsets(p)).toEqual({ stdout: 0, stderr: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
