// Benchmark (not a test): create 1,000 volumes, list 1,000 and 10,000.
// Run after `npx tsc -b packages/volumes`:  node packages/volumes/bench/scale.mjs
// Target: list of 10,000 under 50 ms (one SELECT, no filesystem calls).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LinuxSyscalls } from '@berth/syscall';
import { VolumeStore } from '../dist/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-bench-'));
const store = VolumeStore.open(root, { syscalls: new LinuxSyscalls() });
const ms = (t0) => (performance.now() - t0).toFixed(1);
const median = (fn, runs = 9) => {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)].toFixed(1);
};
try {
  let t0 = performance.now();
  for (let i = 0; i < 1000; i++) store.create({ name: `vol-${i}`, labels: { bench: 'yes', i: String(i) } });
  console.log(`create 1,000 volumes: ${ms(t0)} ms`);
  console.log(`list 1,000 (median of 9): ${median(() => store.list())} ms`);
  t0 = performance.now();
  for (let i = 1000; i < 10000; i++) store.create(i % 2 ? { name: `vol-${i}` } : {});
  console.log(`create 9,000 more: ${ms(t0)} ms`);
  console.log(`list 10,000 (median of 9): ${median(() => store.list())} ms`);
  console.log(`list 10,000 label=bench (median of 9): ${median(() => store.list({ label: 'bench' }))} ms`);
  console.log(`list 10,000 dangling=true (median of 9): ${median(() => store.list({ dangling: true }))} ms`);
  t0 = performance.now();
  store.close();
  const reopened = VolumeStore.open(root, { syscalls: new LinuxSyscalls() });
  console.log(`open + reconcile of 10,000: ${ms(t0)} ms`);
  reopened.close();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
