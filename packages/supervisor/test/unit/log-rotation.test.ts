import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { ContainerStore } from '../../src/container-store.js';
import { JsonLogWriter, readLog } from '../../src/json-log.js';
import { Lifecycle } from '../../src/lifecycle.js';
import { parseLogConfig } from '../../src/log-config.js';
import { containerPaths } from '../../src/stdio.js';
import { FakeEngine, FakeImages } from '../helpers/fake-engine.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'berth-logs-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const all = { stdout: true, stderr: true };

describe('--log-opt (json-file)', () => {
  it("validates as Docker's json-file driver does, with its messages (checked against dockerd 20.10)", () => {
    const jsonFile = { driver: 'json-file', maxFiles: 1 };
    expect(parseLogConfig(undefined)).toEqual(jsonFile);
    expect(parseLogConfig({ Type: '', Config: {} })).toEqual(jsonFile); // what the docker CLI sends
    // go-units FromHumanSize: decimal multiples.
    expect(parseLogConfig({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } })).toEqual({ driver: 'json-file', maxSize: 10_000_000, maxFiles: 3 });
    expect(parseLogConfig({ Type: 'json-file', Config: { 'max-size': '1.5k' } })).toEqual({ driver: 'json-file', maxSize: 1500, maxFiles: 1 });
    // max-file alone is accepted, and rotates nothing without max-size.
    expect(parseLogConfig({ Config: { 'max-file': '3' } })).toEqual(jsonFile);
    expect(parseLogConfig({ Type: 'none', Config: {} })).toEqual({ driver: 'none', maxFiles: 1 });
    expect(parseLogConfig({ Config: { compress: 'false' } })).toEqual(jsonFile);
    const refused: [unknown, string][] = [
      [{ Type: 'syslog' }, 'error looking up logging plugin syslog: plugin "syslog" not found'],
      [{ Type: 'none', Config: { 'max-size': '1k' } }, 'invalid logging opts for driver none'],
      [{ Config: { 'max-sise': '1m' } }, "unknown log opt 'max-sise' for json-file log driver"],
      [{ Config: { 'max-size': 'lots' } }, "failed to initialize logging driver: invalid size: 'lots'"],
      [{ Config: { 'max-size': '-1' } }, "failed to initialize logging driver: invalid size: '-1'"],
      [{ Config: { 'max-size': '0' } }, 'failed to initialize logging driver: max-size must be a positive number'],
      [{ Config: { 'max-size': '1m', 'max-file': '0' } }, 'failed to initialize logging driver: max-file cannot be less than 1'],
      [{ Config: { 'max-file': '-1' } }, 'failed to initialize logging driver: max-file cannot be less than 1'],
      [{ Config: { 'max-file': 'x' } }, 'failed to initialize logging driver: strconv.Atoi: parsing "x": invalid syntax'],
      [{ Config: { compress: 'maybe' } }, 'failed to initialize logging driver: strconv.ParseBool: parsing "maybe": invalid syntax'],
      [{ Config: { compress: 'true' } }, 'failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set'],
      [{ Config: { compress: 'true', 'max-size': '1k', 'max-file': '2' } }, "berth's json-file log does not compress rotated files"],
      [{ Config: { tag: 'x' } }, "berth's json-file log does not implement log opt 'tag'"],
    ];
    for (const [raw, message] of refused) expect(() => parseLogConfig(raw), message).toThrow(message);
  });

  it('the none driver keeps no log but still hands the records on (attach streams them)', () => {
    const path = join(dir, 'c-json.log');
    const writer = new JsonLogWriter(path, { driver: 'none', maxFiles: 1 });
    expect(writer.write('stdout', 'a\n').map((r) => r.log)).toEqual(['a\n']);
    writer.close();
    expect(existsSync(path)).toBe(false);
  });

  it('rotates log -> log.1 -> log.2 and drops what falls past max-file; reading spans the files in order', () => {
    const path = join(dir, 'c-json.log');
    const writer = new JsonLogWriter(path, { driver: 'json-file', maxSize: 300, maxFiles: 3 });
    for (let i = 0; i < 40; i++) writer.write('stdout', `line ${i}\n`);
    writer.close();
    expect(readdirSync(dir).sort()).toEqual(['c-json.log', 'c-json.log.1', 'c-json.log.2']);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(300);
    const lines = readLog(path, all).map((r) => r.log);
    // The newest lines, contiguous and in order, ending with the last one written.
    const first = Number(/line (\d+)/.exec(lines[0]!)![1]);
    expect(first).toBeGreaterThan(0);
    expect(lines).toEqual(Array.from({ length: 40 - first }, (_, i) => `line ${first + i}\n`));
    expect(readLog(path, { ...all, tail: 2 }).map((r) => r.log)).toEqual(['line 38\n', 'line 39\n']);
  });

  it('cuts a burst written in one go at max-size too, record by record', () => {
    const path = join(dir, 'c-json.log');
    const writer = new JsonLogWriter(path, { driver: 'json-file', maxSize: 500, maxFiles: 3 });
    writer.write('stdout', Array.from({ length: 200 }, (_, i) => `burst ${i}\n`).join(''));
    writer.close();
    expect(readdirSync(dir).sort()).toEqual(['c-json.log', 'c-json.log.1', 'c-json.log.2']);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(500);
    expect(readLog(path, all).at(-1)?.log).toBe('burst 199\n');
  });

  it('with max-file 1 the log starts over, as Docker truncates it', () => {
    const path = join(dir, 'c-json.log');
    const writer = new JsonLogWriter(path, { driver: 'json-file', maxSize: 200, maxFiles: 1 });
    for (let i = 0; i < 20; i++) writer.write('stderr', `e${i}\n`);
    writer.close();
    expect(readdirSync(dir)).toEqual(['c-json.log']);
    expect(statSync(path).size).toBeLessThanOrEqual(200);
    expect(readLog(path, all).at(-1)).toMatchObject({ log: 'e19\n', stream: 'stderr' });
  });
});

describe('a chatty container with rotation (host processes)', () => {
  it('keeps its log within max-size x max-file and gives the raw output back to the disk as it is converted', async () => {
    const store = ContainerStore.open(join(dir, 'supervisor.db'));
    const engine = new FakeEngine();
    const lc = new Lifecycle({ root: dir, store, engine, images: new FakeImages(), syscalls: new LinuxSyscalls(), pollIntervalMs: 20 });
    try {
      // 8 MiB of output, then it waits, still running, with its raw file open.
      const script = 'head -c 8388608 /dev/zero | tr "\\0" "x" | fold -w 1023; echo done; sleep 100';
      const { Id } = await lc.create({
        Image: 'busybox', Cmd: ['sh', '-c', script],
        HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } } },
      });
      await lc.start(Id);
      const paths = containerPaths(dir, Id);
      const deadline = Date.now() + 20_000;
      while (!readLog(paths.log, all).some((r) => r.log.endsWith('done\n'))) {
        if (Date.now() > deadline) {
          const files = readdirSync(paths.dir).map((f) => `${f}:${statSync(join(paths.dir, f)).size}`);
          throw new Error(`the output did not reach the log: ${files.join(' ')} ${JSON.stringify(readLog(paths.log, all).slice(-2))}`);
        }
        await sleep(50);
      }
      const logBytes = readdirSync(paths.dir).filter((f) => f.includes('-json.log')).reduce((n, f) => n + statSync(join(paths.dir, f)).size, 0);
      expect(logBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
      const raw = statSync(paths.stdout);
      expect(raw.size).toBeGreaterThan(8 * 1024 * 1024);
      // The raw file keeps its size (the container appends at the end) but not its blocks.
      expect(raw.blocks * 512).toBeLessThanOrEqual(2 * 1024 * 1024);
      await lc.remove(Id, { force: true });
      expect(existsSync(paths.dir)).toBe(false);
    } finally {
      lc.close();
      for (const pid of engine.pids) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
      store.close();
    }
  }, 30_000);
});
