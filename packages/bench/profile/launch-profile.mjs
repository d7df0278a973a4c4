// Where does a warm-pool library launch spend its time? Not a test, not
// part of `npm run bench`: run after `npm run build`, as root:
//   node --cpu-prof --cpu-prof-dir=/tmp/berth-prof packages/bench/profile/launch-profile.mjs
//   node packages/bench/profile/launch-profile.mjs --summarize /tmp/berth-prof
// The first writes one .cpuprofile per thread (main + workers); the second
// prints the top self-time functions of each.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.argv[2] === '--summarize') {
  const dir = process.argv[3];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const self = new Map();
    const dt = (p.endTime - p.startTime) / p.samples.length / 1000; // ms per sample
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (const id of p.samples) {
      const n = byId.get(id);
      const cf = n.callFrame;
      const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${f}: ${total.toFixed(0)} ms sampled`);
    for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      console.log(`  ${v.toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
    }
  }
  process.exit(0);
}

const { BerthEnv, writeBusyboxImage, twoVolumes } = await import('../dist/berth-env.js');
const dir = mkdtempSync(join(tmpdir(), 'berth-prof-'));
try {
  const archive = join(dir, 'busybox.tar');
  await writeBusyboxImage(archive);
  const env = await BerthEnv.open(dir, archive, 1);
  for (let i = 0; i < 20; i++) await env.launch(twoVolumes());
  const n = 200;
  const parts = { ms: 0, setupMs: 0, cleanupMs: 0 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = await env.launch(twoVolumes());
    parts.ms += t.ms; parts.setupMs += t.setupMs; parts.cleanupMs += t.cleanupMs;
  }
  const wall = performance.now() - t0;
  console.log(`${n} launches in ${wall.toFixed(0)} ms: per launch start→exited ${(parts.ms / n).toFixed(2)} ms, of which worker setup ${(parts.setupMs / n).toFixed(2)} ms; cleanup ${(parts.cleanupMs / n).toFixed(2)} ms`);
  await env.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
