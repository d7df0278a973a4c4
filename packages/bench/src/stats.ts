/** Summary statistics for benchmark samples; pure functions, no I/O. */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The q-quantile (0..1) of ascending `sorted`, interpolating linearly between
 * closest ranks (numpy's default), so p50 of an even count is the midpoint.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('failed to compute a percentile: no samples');
  if (q < 0 || q > 1) throw new RangeError(`failed to compute a percentile: q=${q} is outside 0..1`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
  };
}

export function median(samples: readonly number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 0.5);
}

export interface LinearFit {
  /** Change in y per unit of x (here: ms per extra mount). */
  slope: number;
  intercept: number;
  /** Coefficient of determination; 1 when every point lies on the line. */
  r2: number;
}

/** Ordinary least squares of y on x. */
export function leastSquares(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length) throw new RangeError(`failed to fit a line: ${xs.length} x values but ${ys.length} y values`);
  if (xs.length < 2) throw new RangeError('failed to fit a line: need at least two points');
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) throw new RangeError('failed to fit a line: all x values are equal');
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

export interface PairedRatio {
  /** Median over iterations of a[i] / b[i] (a and b measured in the same round-robin iteration). */
  perIterationMedian: number;
  /** p50(a) / p50(b) over the same interleaved run. */
  ofP50s: number;
  pairs: number;
}

/**
 * Ratio of `a` to `b` where sample i of each was taken in the same
 * round-robin iteration, so machine drift affects both sides of each pair.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): PairedRatio {
  const pairs = Math.min(a.length, b.length);
  if (pairs === 0) throw new RangeError('failed to compute a ratio: no paired samples');
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) ratios.push(a[i]! / b[i]!);
  return { perIterationMedian: median(ratios), ofP50s: median(a.slice(0, pairs)) / median(b.slice(0, pairs)), pairs };
}
