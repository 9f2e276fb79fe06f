import { describe, expect, test } from 'vitest';
import { bootstrapMean, bootstrapQuantile, quantileSorted } from './bootstrap.ts';
import { seededRng } from './rng.ts';

/** Skewed latencies in milliseconds (log-normal-ish), from a seeded generator. */
function latencies(n: number, seed: number): number[] {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () => Math.round(200 * Math.exp(rng() * 2)));
}

describe('quantileSorted', () => {
  test('linear interpolation as numpy.percentile / R type 7', () => {
    // numpy.percentile([1, 2, 3, 4], 25) = 1.75; 95th of 1..10 = 9.55.
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBeCloseTo(9.55, 12);
  });
});

describe('bootstrapQuantile', () => {
  test('equals the naive resample-sort-quantile bootstrap with the same draws', () => {
    const values = latencies(301, 7);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const rng = seededRng(42);
      const replicates: number[] = [];
      for (let i = 0; i < 200; i++) {
        const sample = Array.from({ length: sorted.length }, () => sorted[Math.floor(rng() * sorted.length)]!).sort((a, b) => a - b);
        replicates.push(quantileSorted(sample, q));
      }
      replicates.sort((a, b) => a - b);
      const r = bootstrapQuantile(values, q, { iterations: 200, seed: 42 });
      expect(r.estimate).toBe(quantileSorted(sorted, q));
      expect(r.lower).toBeCloseTo(quantileSorted(replicates, 0.025), 9);
      expect(r.upper).toBeCloseTo(quantileSorted(replicates, 0.975), 9);
    }
  });

  test('is deterministic for a seed, and brackets the estimate', () => {
    const values = latencies(2000, 3);
    const one = bootstrapQuantile(values, 0.95, { seed: 9 });
    expect(bootstrapQuantile(values, 0.95, { seed: 9 })).toEqual(one);
    expect(one.lower!).toBeLessThanOrEqual(one.estimate!);
    expect(one.upper!).toBeGreaterThanOrEqual(one.estimate!);
  });

  test('no values: nulls', () => {
    expect(bootstrapQuantile([], 0.5)).toMatchObject({ estimate: null, lower: null, upper: null });
  });
});

describe('bootstrapMean', () => {
  test('agrees with the normal-theory interval on a large sample', () => {
    const values = latencies(5000, 11);
    const n = values.length;
    const mean = values.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    const r = bootstrapMean(values, { iterations: 2000 });
    expect(r.estimate).toBeCloseTo(mean, 9);
    // Percentile and mean ± 1.96·se agree within a tenth of the half-width for n = 5000.
    const half = (1.96 * sd) / Math.sqrt(n);
    expect(Math.abs(r.lower! - (mean - half))).toBeLessThan(half / 10);
    expect(Math.abs(r.upper! - (mean + half))).toBeLessThan(half / 10);
  });

  test('refuses too few iterations', () => {
    expect(() => bootstrapMean([1, 2, 3], { iterations: 3 })).toThrow(/iterations/);
  });
});

describe('large samples', () => {
  // At n = 20,000 both ways are available: the closed forms must agree with the bootstrap.
  const values = latencies(20_000, 21);

  test('the order-statistic interval of p95 agrees with the bootstrap', () => {
    const boot = bootstrapQuantile(values, 0.95, { iterations: 400 });
    const closed = bootstrapQuantile(values, 0.95, { maxBootstrapN: 1000 });
    expect(boot.method).toBe('bootstrap');
    expect(closed.method).toBe('order_statistic');
    expect(closed.estimate).toBe(boot.estimate);
    const width = boot.upper! - boot.lower!;
    expect(Math.abs(closed.lower! - boot.lower!)).toBeLessThanOrEqual(width / 2);
    expect(Math.abs(closed.upper! - boot.upper!)).toBeLessThanOrEqual(width / 2);
  });

  test('the normal interval of the mean agrees with the bootstrap', () => {
    const boot = bootstrapMean(values, { iterations: 400 });
    const closed = bootstrapMean(values, { maxBootstrapN: 1000 });
    expect(closed.method).toBe('normal');
    const width = boot.upper! - boot.lower!;
    expect(Math.abs(closed.lower! - boot.lower!)).toBeLessThan(width / 5);
    expect(Math.abs(closed.upper! - boot.upper!)).toBeLessThan(width / 5);
  });
});

describe('bootstrapQuantile of presorted values', () => {
  test('answers what it answers for the same values unsorted, below and above maxBootstrapN', () => {
    const rng = seededRng(11);
    const values = Array.from({ length: 3000 }, () => Math.round(1000 * rng()));
    const ascending = Float64Array.from(values).sort();
    for (const maxBootstrapN of [5000, 1000]) {
      expect(bootstrapQuantile(ascending, 0.95, { maxBootstrapN, sorted: true })).toEqual(bootstrapQuantile(values, 0.95, { maxBootstrapN }));
    }
  });
});

