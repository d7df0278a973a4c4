import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LaunchFailedError } from '../../src/errors.js';
import { Spawner, shellQuote } from '../../src/spawner.js';

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

describe('Spawner (the bench\'s long-lived shell)', () => {
  let spawner: Spawner;
  let dir: string;
  beforeAll(() => {
    spawner = Spawner.start();
    dir = mkdtempSync(join(tmpdir(), 'berth-spawner-test-'));
  });
  afterAll(() => {
    spawner.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('quotes any word for the shell', () => {
    expect(shellQuote("it's $HOME `x`")).toBe(`'it'\\''s $HOME \`x\`'`);
  });

  it('runs the argv as given, in the cwd asked for, and times it in the shell', async () => {
    const ms = await spawner.run(['sh', '-c', 'sleep 0.05; pwd > out; printf %s "$1" >> out', 'sh', "a 'quoted' $word"], 'sh', { cwd: dir });
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(`${dir}\na 'quoted' $word`);
    // A run without a cwd is back where the bench was, not where the last run went.
    await spawner.run(['sh', '-c', `pwd > ${shellQuote(join(dir, 'home'))}`], 'pwd');
    expect(readFileSync(join(dir, 'home'), 'utf8')).toBe(`${process.cwd()}\n`);
    // Measured around the command's own run: at least its sleep, and not the 1 s a broken clock would give.
    expect(ms).toBeGreaterThanOrEqual(50);
    expect(ms).toBeLessThan(1000);
  });

  it('rejects a run that did not exit 0, naming it, with the end of its stderr', async () => {
    const failed = spawner.run(['sh', '-c', 'echo first >&2; echo last words >&2; exit 3'], 'the failing row');
    await expect(failed).rejects.toBeInstanceOf(LaunchFailedError);
    await expect(failed).rejects.toThrow('failed to run the failing row: exit 3: first / last words');
    // The shell is still usable after a failure.
    await expect(spawner.run(['true'], 'true')).resolves.toBeGreaterThanOrEqual(0);
  });

  it('runs calls one at a time, in call order', async () => {
    const file = join(dir, 'order');
    await Promise.all([0, 1, 2].map((i) => spawner.run(['sh', '-c', `sleep 0.0${3 - i}; echo ${i} >> ${shellQuote(file)}`], `run ${i}`)));
    expect(readFileSync(file, 'utf8')).toBe('0\n1\n2\n');
  });

  it('starts a process in the background and reaps it when killed', async () => {
    const pid = await spawner.startBackground(['sleep', '1000'], 'sleep');
    expect(processState(pid)).toMatch(/^[SR]$/);
    // The pid comes right after bash's fork; the exec follows.
    const cmdline = (): string => { try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1'); } catch { return ''; } };
    for (let i = 0; i < 200 && cmdline() !== 'sleep\u00001000\u0000'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cmdline()).toBe('sleep\u00001000\u0000');
    await spawner.killBackground(pid, 'sleep');
    // Reaped by the shell: no zombie left behind.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
