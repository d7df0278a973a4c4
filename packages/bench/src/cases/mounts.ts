/** Case 2: cost growth with the number of bind mounts, berth and each peer interleaved. */
import { binds, type BerthEnv } from '../berth-env.js';
import { SLOW_PEERS, type PeerState } from '../peers.js';
import type { MountGrowthRow } from '../report-types.js';
import { leastSquares, median } from '../stats.js';

export const MOUNT_COUNTS = [0, 1, 10, 50, 100];

export async function runMountGrowth(env: BerthEnv, bindSource: string, peers: PeerState[],
  o: { samples: number; slowSamples: number; log: (line: string) => void }): Promise<MountGrowthRow[]> {
  const rows: { row: MountGrowthRow; slow: boolean; time: (n: number) => Promise<number> }[] = [
    { row: { name: 'berth (library)', status: 'ok', points: [] }, slow: false, time: async (n) => (await env.launch(binds(bindSource, n))).ms },
  ];
  for (const p of peers) {
    const row: MountGrowthRow = { name: p.name, status: p.status, points: [] };
    if (p.reason) row.reason = p.reason;
    const peer = p.peer;
    rows.push({ row, slow: SLOW_PEERS.has(p.name), time: (n) => peer!.time(n) });
  }
  const active = rows.filter((r) => r.row.status === 'ok');
  for (const n of MOUNT_COUNTS) {
    const samples = new Map<string, number[]>(active.map((r) => [r.row.name, []]));
    for (const r of active) await r.time(n); // warm-up at this count (bundles written, caches hot)
    for (let i = 0; i < o.samples; i++) {
      for (const r of active) {
        if (r.slow && i >= o.slowSamples) continue;
        samples.get(r.row.name)!.push(await r.time(n));
      }
    }
    for (const r of active) {
      const s = samples.get(r.row.name)!;
      r.row.points.push({ mounts: n, p50: median(s), samples: s.length });
    }
    o.log(`  mounts: ${n} done`);
  }
  for (const r of active) {
    r.row.fit = leastSquares(r.row.points.map((p) => p.mounts), r.row.points.map((p) => p.p50));
  }
  return rows.map((r) => r.row);
}
