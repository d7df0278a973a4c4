// A pull SIGKILLed half way leaves no layer, image or blob behind: a child
// process pulls a four-layer image of incompressible files from a real
// registry (unpacking on worker threads, as the supervisor does) and is
// killed once staging directories exist; the next open of the store
// removes every temporary and finds no record.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxSyscalls } from '@berth/syscall';
import { LayerStore } from '../../src/store.js';
import { dockerSave, tarOf } from '../fixtures.js';
import { randomBytes } from 'node:crypto';
import { type TestRegistry, describeRoot, skopeoPush, startRegistry } from '@berth/testing';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describeRoot('a pull killed half way', () => {
  let reg: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'berth-pull-kill-'));
    const layers = await Promise.all([0, 1, 2, 3].map((l) =>
      tarOf(Array.from({ length: 64 }, (_, f) => ({ name: `d${l}/f${f}`, body: randomBytes(256 * 1024) })))));
    writeFileSync(join(dir, 'big.tar'), await dockerSave([{ layers, tags: ['big:1'] }]));
    await skopeoPush(reg, `docker-archive:${join(dir, 'big.tar')}`, 'big:1');
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves nothing once the store is opened again', async () => {
    const root = join(dir, 'store');
    mkdirSync(root);
    const code = `import { LayerStore } from '@berth/layers';\nimport { LinuxSyscalls } from '@berth/syscall';\n` +
      `const s = LayerStore.open(${JSON.stringify(root)}, { syscalls: new LinuxSyscalls(), unpackInWorker: true });\n` +
      `await s.pull(${JSON.stringify(`${reg.host}/big:1`)});\nconsole.log('finished');\n`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const staging = (): string[] => (existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')).filter((n) => n.startsWith('.tmp-')) : []);
    for (let i = 0; i < 400 && staging().length === 0 && child.exitCode === null; i++) await sleep(10);
    expect(staging().length).toBeGreaterThan(0);
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    expect(out).not.toContain('finished');

    const store = LayerStore.open(root, { syscalls: new LinuxSyscalls() });
    try {
      expect(store.startupReport.removedTemporaries.length).toBeGreaterThan(0);
      expect(store.listImages()).toEqual([]);
      expect(readdirSync(join(root, 'layers'))).toEqual([]);
      expect(readdirSync(join(root, 'l'))).toEqual([]);
      expect(readdirSync(join(root, 'blobs', 'sha256'))).toEqual([]);
      // And the next pull works from there.
      const img = await store.pull(`${reg.host}/big:1`);
      expect(img.layers).toHaveLength(4);
    } finally {
      store.close();
    }
  }, 120_000);
});
