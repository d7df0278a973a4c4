import { describe, expect, it } from 'vitest';
import { leastSquares, median, pairedRatio, percentile, summarize } from '../../src/stats.js';

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    const s = [1, 2, 3, 4];
    expect(percentile(s, 0)).toBe(1);
    expect(percentile(s, 1)).toBe(4);
    expect(percentile(s, 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46);
  });
  it('p99 of 1..100 is 99.01 and p50 is 50.5', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 0.99)).toBeCloseTo(99.01);
    expect(percentile(s, 0.5)).toBe(50.5);
  });
  it('refuses an empty sample and q outside 0..1', () => {
    expect(() => percentile([], 0.5)).toThrow(/no samples/);
    expect(() => percentile([1], 1.5)).toThrow(/outside/);
  });
});

describe('summarize', () => {
  it('sorts before taking percentiles', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, min: 1, p50: 3, max: 5, mean: 3 });
  });
  it('median of an unsorted sample', () => {
    expect(median([9, 1, 5])).toBe(5);
  });
});

describe('leastSquares', () => {
  it('recovers the slope of an exact line (ms per mount)', () => {
    const xs = [0, 1, 10, 50, 100];
    const fit = leastSquares(xs, xs.map((x) => 10 + 0.05 * x));
    expect(fit.slope).toBeCloseTo(0.05, 10);
    expect(fit.intercept).toBeCloseTo(10, 10);
    expect(fit.r2).toBeCloseTo(1, 10);
  });
  it('fits noisy points by least squares', () => {
    const fit = leastSquares([0, 1, 2, 3], [1, 3, 2, 4]);
    expect(fit.slope).toBeCloseTo(0.8);
    expect(fit.intercept).toBeCloseTo(1.3);
    expect(fit.r2).toBeCloseTo(0.64);
  });
  it('refuses mismatched or degenerate input', () => {
    expect(() => leastSquares([1, 2], [1])).toThrow(/2 x values but 1/);
    expect(() => leastSquares([1], [1])).toThrow(/two points/);
    expect(() => leastSquares([2, 2], [1, 3])).toThrow(/all x values are equal/);
  });
});

describe('pairedRatio', () => {
  it('pairs sample i with sample i, so drift cancels per iteration', () => {
    // b drifts 10x between iterations; a is always half of b.
    const b = [10, 100, 10, 100, 10];
    const a = b.map((x) => x / 2);
    const r = pairedRatio(a, b);
    expect(r.perIterationMedian).toBe(0.5);
    expect(r.ofP50s).toBe(0.5);
    expect(r.pairs).toBe(5);
  });
  it('differs from the ratio of p50s when pairs disagree', () => {
    const r = pairedRatio([1, 10, 10], [10, 1, 5]);
    expect(r.perIterationMedian).toBe(2);
    expect(r.ofP50s).toBe(2);
    const r2 = pairedRatio([3, 3, 30], [1, 10, 10]);
    expect(r2.perIterationMedian).toBe(3);
    expect(r2.ofP50s).toBeCloseTo(0.3);
  });
  it('uses only the common prefix and refuses no pairs', () => {
    expect(pairedRatio([2, 2, 99], [1, 1]).pairs).toBe(2);
    expect(() => pairedRatio([], [1])).toThrow(/no paired samples/);
  });
});
