/** Case 3: launches per second with N launches in flight on one warm pool. */
import { twoVolumes, type BerthEnv } from '../berth-env.js';
import type { ThroughputRow } from '../report-types.js';

export const IN_FLIGHT = [1, 2, 4, 8, 32];

export async function runThroughput(env: BerthEnv, o: { launches: number; log: (line: string) => void }): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  for (const n of IN_FLIGHT) {
    let next = 0;
    const t0 = performance.now();
    const lane = async () => {
      while (next < o.launches) {
        next += 1;
        await env.launch(twoVolumes());
      }
    };
    await Promise.all(Array.from({ length: n }, lane));
    // Background deletions of the last launches' directories count too.
    await env.layers.idle();
    const seconds = (performance.now() - t0) / 1000;
    rows.push({ inFlight: n, launches: o.launches, seconds, perSecond: o.launches / seconds });
    o.log(`  throughput: ${n} in flight: ${(o.launches / seconds).toFixed(0)}/s`);
  }
  return rows;
}
