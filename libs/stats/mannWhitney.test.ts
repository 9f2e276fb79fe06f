import { describe, expect, test } from 'vitest';
import { mannWhitneyU, mannWhitneyUSorted } from './mannWhitney.ts';
import { seededRng } from './rng.ts';

describe('mannWhitneyU', () => {
  // SciPy documentation of scipy.stats.mannwhitneyu, Examples (ages of males and females):
  // U1 = 17; method="asymptotic" (normal approximation with continuity correction) gives
  // two-sided p = 0.11134688653314041.
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];

  test('reproduces the SciPy example', () => {
    const r = mannWhitneyU(males, females);
    expect(r.u).toBe(17);
    expect(r.pValue).toBeCloseTo(0.11134688653314041, 10);
  });

  test('U of a plus U of b is n_a·n_b, and the rank-biserial correlation flips sign', () => {
    const ab = mannWhitneyU(males, females);
    const ba = mannWhitneyU(females, males);
    expect(ab.u + ba.u).toBe(20);
    expect(ab.rankBiserial).toBeCloseTo(0.7, 12);
    expect(ba.rankBiserial).toBeCloseTo(-0.7, 12);
    expect(ba.pValue).toBeCloseTo(ab.pValue, 12);
  });

  test('without continuity correction z = (U − n_a·n_b/2)/σ (Mann & Whitney 1947 moments)', () => {
    const r = mannWhitneyU(males, females, { continuity: false });
    expect(r.z).toBeCloseTo(7 / Math.sqrt((5 * 4 * 10) / 12), 12);
  });

  test('ties get average ranks and shrink the variance by Σ(t³ − t)/(n(n − 1))', () => {
    // a = [1, 2, 2], b = [2, 3]: pooled ranks 1, 3, 3, 3, 5 (the three 2s share rank 3).
    const r = mannWhitneyU([1, 2, 2], [2, 3], { continuity: false });
    expect(r.rankSumA).toBe(7);
    expect(r.u).toBe(1);
    const variance = ((3 * 2) / 12) * (6 - (27 - 3) / (5 * 4));
    expect(r.z).toBeCloseTo((1 - 3) / Math.sqrt(variance), 12);
  });

  test('identical samples: no evidence of a difference', () => {
    const r = mannWhitneyU([5, 5, 5], [5, 5]);
    expect(r.pValue).toBe(1);
    expect(r.rankBiserial).toBe(0);
  });

  test('a clear shift on large samples is detected', () => {
    const a = Array.from({ length: 200 }, (_, i) => 100 + (i % 50));
    const b = Array.from({ length: 200 }, (_, i) => 120 + (i % 50));
    const r = mannWhitneyU(a, b);
    expect(r.pValue).toBeLessThan(1e-6);
    expect(r.rankBiserial).toBeLessThan(-0.5);
  });

  test('the merge of sorted samples ranks exactly as the pooled sort, ties included', () => {
    const rng = seededRng(7);
    const a = Array.from({ length: 500 }, () => Math.round(rng() * 60));
    const b = Array.from({ length: 300 }, () => Math.round(rng() * 60) + 3);
    const sorted = mannWhitneyUSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort());
    // Reference: average ranks over the pooled sample, computed the slow way.
    const pooled = [...a, ...b].sort((x, y) => x - y);
    const rankOf = (v: number) => (pooled.indexOf(v) + 1 + pooled.lastIndexOf(v) + 1) / 2;
    expect(sorted.rankSumA).toBeCloseTo(a.reduce((s, v) => s + rankOf(v), 0), 6);
    expect(sorted).toEqual(mannWhitneyU(a, b));
  });

  test('refuses NaN rather than ranking it', () => {
    expect(() => mannWhitneyUSorted(Float64Array.of(1, NaN), Float64Array.of(2))).toThrow(/NaN/);
  });
});
