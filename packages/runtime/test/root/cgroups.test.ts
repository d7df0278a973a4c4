import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Cgroups, type CgroupHandle } from '../../src/cgroups/index.js';
import { describeRoot } from '@berth/testing';

// Real cgroups on this machine (v1 hybrid here; v2 elsewhere). Every process
// is started here, waits on stdin (like the init waits for go) until it is
// placed, and is killed by pid at the end.

let cg: Cgroups;
let handle: CgroupHandle | undefined;
const started: ChildProcess[] = [];
const parentsBefore = new Map<string, string[]>();
const id = `test-${process.pid}`;

function startWaiting(script: string): ChildProcess {
  // Its own process group, so everything it forks can be ended by pgid even
  // if it escaped the cgroup (a broken placement).
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  started.push(child);
  return child;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

function procs(h: CgroupHandle): number[] {
  return h.paths.flatMap((p) => readFileSync(join(p, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
}

function read(h: CgroupHandle, file: string): string {
  const path = h.paths.map((p) => join(p, file)).find((p) => existsSync(p));
  if (!path) throw new Error(`no ${file} in ${h.paths.join(', ')}`);
  return readFileSync(path, 'utf8').trim();
}

/** Kill whatever is still in the container cgroup (all started by these tests), then our own children. */
function killAll(h: CgroupHandle | undefined): void {
  if (h) for (const pid of new Set(procs(h))) process.kill(pid, 'SIGKILL');
  for (const child of started.splice(0)) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
}

async function removeWhenEmpty(h: CgroupHandle): Promise<void> {
  for (let i = 0; i < 100 && procs(h).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  cg.remove(h);
}

describeRoot('cgroups on the real machine', () => {
  beforeAll(() => {
    cg = Cgroups.detect();
    for (const dir of cg.berthDirs) parentsBefore.set(dirname(dir), readdirSync(dirname(dir)).sort());
  });

  afterEach(async () => {
    killAll(handle);
    if (handle) await removeWhenEmpty(handle);
    handle = undefined;
  });

  afterAll(() => {
    cg.cleanup();
    // The supervisor's own cgroups are as they were: no berth/ left if we made it.
    for (const [dir, entries] of parentsBefore) expect(readdirSync(dir).sort()).toEqual(entries);
  });

  it('creates the cgroup, writes the limits, places a process, and removes it all', async () => {
    handle = cg.create(id, { memoryBytes: 32 << 20, memorySwapBytes: 32 << 20, pidsMax: 20, cpuShares: 512 });
    const child = startWaiting('exec sleep 5');
    cg.place(handle, child.pid ?? 0);
    child.stdin?.end('\n');
    expect(procs(handle)).toContain(child.pid);
    expect(read(handle, 'pids.max')).toBe('20');
    expect(read(handle, cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max')).toBe(String(32 << 20));
    child.kill('SIGKILL');
    await exited(child, 5000);
    await removeWhenEmpty(handle);
    expect(handle.paths.filter((p) => existsSync(p))).toEqual([]);
    handle = undefined;
  });

  it('stops a fork bomb at the pids limit', async () => {
    handle = cg.create(id, { pidsMax: 20 });
    // Bounded: 60 background sleeps; without the limit all of them would start.
    const bomb = startWaiting('i=0; while [ $i -lt 60 ]; do sleep 10 & i=$((i+1)); done; echo started-all; wait');
    cg.place(handle, bomb.pid ?? 0);
    let out = '';
    bomb.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    bomb.stdin?.end('\n');
    await Promise.race([exited(bomb, 10_000), new Promise((r) => setTimeout(r, 1500))]);
    const current = Number(read(handle, 'pids.current'));
    expect(current).toBeLessThanOrEqual(20);
    expect(out).not.toContain('started-all');
    expect(read(handle, 'pids.events')).toMatch(/max [1-9]/);
  });

  it('kills a memory hog at the memory limit and reports the OOM kill', async () => {
    handle = cg.create(id, { memoryBytes: 32 << 20, memorySwapBytes: 32 << 20 });
    // tail must hold the whole line (no newline in /dev/zero): 200 MB wanted.
    const hog = startWaiting('head -c 200M /dev/zero | tail -n 1 >/dev/null && echo survived');
    cg.place(handle, hog.pid ?? 0);
    let out = '';
    hog.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    hog.stdin?.end('\n');
    await exited(hog, 20_000);
    expect(cg.oomKilled(handle)).toBe(true);
    expect(out).not.toContain('survived');
    expect(cg.memoryPeakBytes(handle)).toBeLessThanOrEqual(32 << 20);
  });
});
