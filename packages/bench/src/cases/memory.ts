/** Case 6: supervisor RSS, idle and under load, and per worker (1 vs 4 workers). */
import { setTimeout as sleep } from 'node:timers/promises';
import { Daemon } from '../daemon.js';
import type { MemoryRow } from '../report-types.js';
import type { Spawner } from '../spawner.js';

const RUNNING = 20;
/** How long the 1-worker daemon sits idle before its reading. */
const SETTLE_MS = 40_000;

export async function runMemory(dir: string, archive: string, main: Daemon, spawner: Spawner, o: { loadRuns: number }): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  await sleep(500);
  const idle4 = main.rssMB();
  rows.push({ name: 'supervisor idle, 4 workers', rssMB: idle4, note: 'after the latency runs' });
  // Issue 16: ≤ 1 MB more per running container.
  const running: string[] = [];
  try {
    for (let i = 0; i < RUNNING; i++) running.push(main.runDetached());
    await sleep(500);
    rows.push({ name: 'per running container', rssMB: (main.rssMB() - idle4) / RUNNING, note: `(RSS with ${RUNNING} \`run -d\` containers running − idle) / ${RUNNING}` });
  } finally {
    main.removeForce(running);
  }
  let peak = idle4;
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      peak = Math.max(peak, main.rssMB());
      await sleep(20);
    }
  })();
  let next = 0;
  const lane = async () => {
    while (next < o.loadRuns) {
      next += 1;
      await main.runAsync();
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  stop = true;
  await sampler;
  rows.push({ name: 'supervisor under load, 4 workers', rssMB: peak, note: `peak while ${o.loadRuns} \`berth run --rm\` ran 8 at a time` });
  const one = await Daemon.start(dir, archive, 1, spawner);
  try {
    await one.timeRun(); // the worker has loaded its modules
    // Settled as the 4-worker reading is (that daemon sat idle through cases 2-5 and 7): V8's memory
    // reducer shrinks the heaps 8-30 s after the last request, and the supervisor's second malloc_trim
    // comes six quiet 5 s periods after the first.
    await sleep(SETTLE_MS);
    const idle1 = one.rssMB();
    rows.push({ name: 'supervisor idle, 1 worker', rssMB: idle1, note: `${SETTLE_MS / 1000} s after one run` });
    rows.push({ name: 'per worker', rssMB: (idle4 - idle1) / 3, note: '(idle 4 workers − idle 1 worker) / 3' });
  } finally {
    await one.stop();
  }
  return rows;
}
