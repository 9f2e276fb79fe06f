import { describe, expect, test } from 'vitest';
import { summarize, welchTTest } from './welch.ts';

describe('welchTTest', () => {
  // Wikipedia, "Welch's t-test", Examples, example 1 (two samples of 15): Welch's t = −2.46,
  // ν = 25.0, two-sided p = 0.021.
  const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];

  test('reproduces the Wikipedia example', () => {
    const r = welchTTest(summarize(A1), summarize(A2));
    expect(r.t).toBeCloseTo(-2.46, 2);
    expect(r.df).toBeCloseTo(25.0, 1);
    expect(r.pValue).toBeCloseTo(0.021, 3);
    expect(r.difference).toBeCloseTo(-2.1667, 4);
  });

  test('the interval is the difference ± t(0.975, df)·se and excludes 0 exactly when p < 0.05', () => {
    const r = welchTTest(summarize(A1), summarize(A2));
    expect(r.lower).toBeLessThan(r.difference);
    expect(r.upper).toBeLessThan(0);
    expect((r.upper + r.lower) / 2).toBeCloseTo(r.difference, 10);
    const flipped = welchTTest(summarize(A2), summarize(A1));
    expect(flipped.pValue).toBeCloseTo(r.pValue, 12);
    expect(flipped.lower).toBeCloseTo(-r.upper, 10);
  });

  test("Cohen's d uses the pooled standard deviation", () => {
    const a = summarize(A1);
    const b = summarize(A2);
    const pooled = Math.sqrt(((a.n - 1) * a.variance + (b.n - 1) * b.variance) / (a.n + b.n - 2));
    expect(welchTTest(a, b).cohensD).toBeCloseTo((a.mean - b.mean) / pooled, 12);
  });

  test('summarize matches the two-pass definitions', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.variance).toBeCloseTo(32 / 7, 12);
  });

  test('constant groups: the difference is exact', () => {
    const r = welchTTest({ n: 3, mean: 1, variance: 0 }, { n: 3, mean: 1, variance: 0 });
    expect(r.pValue).toBe(1);
  });

  test('needs two values per group', () => {
    expect(() => welchTTest({ n: 1, mean: 1, variance: 0 }, summarize(A2))).toThrow(/at least 2/);
  });
});
