/**
 * Case 7: what seccomp costs a launch. The profile is compiled once per
 * profile and capability set into <root>/seccomp/<sha256>.bpf; every later
 * launch only looks the file up (the stub's seccomp(2) load is part of the
 * launch rows). Timed: the first compile (libseccomp, cold), a compile with
 * the library warm, and the per-launch lookup for the default profile and
 * for a custom one (its digest is remembered per distinct text).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SeccompCache, compileSeccompProfile, defaultCapabilities, defaultProfileText, defaultSeccompProfile } from '@berth/runtime';
import type { TimedStep } from '../report-types.js';
import { median } from '../stats.js';

export async function runSeccompCost(dir: string, lookups = 10_000): Promise<TimedStep[]> {
  const root = join(dir, 'seccomp-root');
  const caps = defaultCapabilities().names;
  try {
    const steps: TimedStep[] = [];
    let t0 = performance.now();
    const cache = new SeccompCache(root);
    const path = await cache.pathFor({ kind: 'default' }, caps);
    steps.push({ name: 'first launch: compile the default profile and write the .bpf', ms: performance.now() - t0, note: 'once per profile and capability set' });
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      await compileSeccompProfile(defaultSeccompProfile(), caps);
      warm.push(performance.now() - t0);
    }
    steps.push({ name: 'compile again (libseccomp loaded)', ms: median(warm), note: `median of 5; ${readFileSync(path!).length / 8} BPF instructions` });
    t0 = performance.now();
    for (let i = 0; i < lookups; i++) await cache.pathFor({ kind: 'default' }, caps);
    steps.push({ name: 'per launch: cached default profile', ms: (performance.now() - t0) / lookups, note: `mean of ${lookups.toLocaleString('en')} lookups` });
    const custom = { kind: 'custom' as const, profile: defaultProfileText().replace('"defaultErrnoRet": 1', '"defaultErrnoRet": 13') };
    await cache.pathFor(custom, caps);
    t0 = performance.now();
    for (let i = 0; i < lookups; i++) await cache.pathFor(custom, caps);
    steps.push({ name: 'per launch: cached custom profile (13 kB of JSON)', ms: (performance.now() - t0) / lookups, note: `mean of ${lookups.toLocaleString('en')} lookups` });
    return steps;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
