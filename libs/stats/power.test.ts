import { describe, expect, test } from 'vitest';
import { additionalNeeded, cohensH, sampleSizeFromH, sampleSizeMannWhitney, sampleSizeMeans, sampleSizeProportions, tTestPower } from './power.ts';

describe('sampleSizeMeans (two-sided two-sample t-test, alpha 0.05, power 0.8)', () => {
  // G*Power 3 ("t tests – Means: difference between two independent means", a priori), and
  // Cohen (1988) Table 2.4.1: d = 0.5 needs 64 per group, d = 0.8 needs 26, d = 0.2 needs 394
  // (Cohen's table, which rounds, prints 393). statsmodels TTestIndPower().solve_power(0.5,
  // alpha=0.05, power=0.8) = 63.77.
  test.each([
    [0.5, 64],
    [0.8, 26],
    [0.2, 394],
  ])('d = %f needs %i per group', (d, n) => {
    expect(sampleSizeMeans(d)).toBe(n);
    expect(sampleSizeMeans(-d)).toBe(n);
  });

  test('the found size reaches the power and one fewer does not', () => {
    expect(tTestPower(0.5, 64)).toBeGreaterThanOrEqual(0.8);
    expect(tTestPower(0.5, 63)).toBeLessThan(0.8);
  });

  test('no effect: no sample size', () => {
    expect(sampleSizeMeans(0)).toBeNull();
  });

  test('tiny effects fall back to the normal approximation', () => {
    const n = sampleSizeMeans(0.02)!;
    expect(n).toBeGreaterThan(39_000);
    expect(n).toBeLessThan(39_300);
  });
});

describe('sampleSizeProportions (arcsine, alpha 0.05, power 0.8)', () => {
  // Cohen (1988) Table 6.4.1: h = 0.2 needs n = 392 per sample; statsmodels
  // NormalIndPower().solve_power(0.2, alpha=0.05, power=0.8) = 392.44.
  test('reproduces Cohen’s table for h = 0.2', () => {
    expect(sampleSizeFromH(0.2)).toBeCloseTo(392.44, 2);
  });

  test('Cohen’s h of 0.5 vs 0.4 and the size it needs', () => {
    // statsmodels proportion_effectsize(0.5, 0.4) = 0.2013579.
    expect(cohensH(0.5, 0.4)).toBeCloseTo(0.2013579, 6);
    expect(sampleSizeProportions(0.5, 0.4)).toBe(Math.ceil(sampleSizeFromH(cohensH(0.5, 0.4))!));
  });

  test('higher power or a stricter alpha needs more jobs', () => {
    const base = sampleSizeProportions(0.05, 0.03)!;
    expect(sampleSizeProportions(0.05, 0.03, { power: 0.9 })!).toBeGreaterThan(base);
    expect(sampleSizeProportions(0.05, 0.03, { alpha: 0.01 })!).toBeGreaterThan(base);
  });

  test('equal rates: nothing to detect', () => {
    expect(sampleSizeProportions(0.1, 0.1)).toBeNull();
  });
});

describe('additionalNeeded', () => {
  test('counts from the smaller group, never below zero', () => {
    expect(additionalNeeded(400, 250, 300)).toBe(150);
    expect(additionalNeeded(400, 500, 450)).toBe(0);
    expect(additionalNeeded(null, 1, 1)).toBeNull();
  });
});

describe('sampleSizeMannWhitney (Noether 1987, equal groups, alpha 0.05, power 0.8)', () => {
  test('P(a > b) = 0.6 needs (1.959964 + 0.841621)² / (3 · 0.1²) / 2 = 130.8, so 131 per group', () => {
    expect(sampleSizeMannWhitney(0.6)).toBe(131);
    // Symmetric in the direction of the effect.
    expect(sampleSizeMannWhitney(0.4)).toBe(131);
  });

  test('no effect needs no sample size; a probability outside [0, 1] is refused', () => {
    expect(sampleSizeMannWhitney(0.5)).toBeNull();
    expect(() => sampleSizeMannWhitney(1.2)).toThrow(/probability/);
  });
});
