/**
 * A small seeded PRNG (mulberry32), so a failing soak can be replayed with
 * `BERTH_SEED=<seed>`: the same seed gives the same operation sequence.
 */
export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)] as T;
    },
    chance: (p: number) => next() < p,
  };
}

/** The seed from `BERTH_SEED`, else a fresh one; always printed so a failure can be replayed. */
export function seedFromEnv(label: string): number {
  const env = process.env['BERTH_SEED'];
  const seed = env !== undefined && env !== '' ? Number(env) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`[${label}] seed ${seed} (replay with BERTH_SEED=${seed})`);
  return seed;
}
