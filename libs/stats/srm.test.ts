import { describe, expect, test } from 'vitest';
import { seededRng } from './rng.ts';
import { chiSquareGoodnessOfFit, sampleRatioMismatch, sharesFromWeights, SRM_ALPHA } from './srm.ts';

describe('chiSquareGoodnessOfFit', () => {
  // Mendel (1866) dihybrid cross, round-yellow / round-green / wrinkled-yellow / wrinkled-green =
  // 315 / 108 / 101 / 32 against 9:3:3:1: χ² = 0.470 with 3 df, p = 0.925 (a standard textbook
  // example, e.g. Sokal & Rohlf, Biometry).
  test("reproduces Mendel's peas", () => {
    const r = chiSquareGoodnessOfFit([315, 108, 101, 32], [9, 3, 3, 1]);
    expect(r.statistic).toBeCloseTo(0.47, 3);
    expect(r.df).toBe(3);
    expect(r.pValue).toBeCloseTo(0.925, 3);
  });

  test('a fair die rolled 60 times with counts 5, 8, 9, 8, 10, 20: χ² = 13.4, 5 df', () => {
    const r = chiSquareGoodnessOfFit([5, 8, 9, 8, 10, 20], [1, 1, 1, 1, 1, 1]);
    expect(r.statistic).toBeCloseTo(13.4, 10);
    expect(r.pValue).toBeCloseTo(0.0199, 3);
  });
});

describe('sharesFromWeights', () => {
  test('a holdout is taken off the top, the weights split the rest', () => {
    expect(sharesFromWeights({ gpt: 3, claude: 1 }, 0.1)).toEqual({ gpt: 0.675, claude: 0.225, holdout: 0.1 });
  });
});

/** Assignments of `n` jobs to arms a/b with P(a) = pA, from a seeded generator. */
function simulate(seed: number, n: number, pA: number): { a: number; b: number } {
  const rng = seededRng(seed);
  let a = 0;
  for (let i = 0; i < n; i++) if (rng() < pA) a++;
  return { a, b: n - a };
}

describe('sampleRatioMismatch', () => {
  const configured = sharesFromWeights({ a: 50, b: 50 });

  test('a broken 50/50 split (really 60/40) over 2,000 assignments is flagged in >= 95 of 100 seeded simulations', () => {
    let flagged = 0;
    for (let seed = 1; seed <= 100; seed++) if (sampleRatioMismatch([{ observed: simulate(seed, 2000, 0.6), shares: configured }]).mismatch) flagged++;
    expect(flagged).toBeGreaterThanOrEqual(95);
  });

  test('a correct 50/50 split over 2,000 assignments is not flagged in >= 95 of 100 seeded simulations', () => {
    let clean = 0;
    for (let seed = 1001; seed <= 1100; seed++) if (!sampleRatioMismatch([{ observed: simulate(seed, 2000, 0.5), shares: configured }]).mismatch) clean++;
    expect(clean).toBeGreaterThanOrEqual(95);
  });

  test('an override segment with its own weights is not a mismatch', () => {
    // Healthcare jobs go 90/10 by override; everyone else 50/50. Pooled, the split looks skewed.
    const r = sampleRatioMismatch([
      { observed: { a: 1003, b: 997 }, shares: { a: 0.5, b: 0.5 } },
      { observed: { a: 905, b: 95 }, shares: { a: 0.9, b: 0.1 } },
    ]);
    expect(r.mismatch).toBe(false);
    expect(r.df).toBe(2);
    expect(r.expected.a).toBeCloseTo(1000 + 900, 10);
    expect(r.observed).toEqual({ a: 1908, b: 1092 });
  });

  test('a holdout arm is one more expected share', () => {
    const shares = sharesFromWeights({ a: 1, b: 1 }, 0.2);
    expect(sampleRatioMismatch([{ observed: { a: 800, b: 790, holdout: 410 }, shares }]).mismatch).toBe(false);
    expect(sampleRatioMismatch([{ observed: { a: 800, b: 790, holdout: 200 }, shares }]).mismatch).toBe(true);
  });

  test('jobs in an arm configured for none are a mismatch however few', () => {
    const r = sampleRatioMismatch([{ observed: { a: 500, b: 500, c: 1 }, shares: { a: 0.5, b: 0.5 } }]);
    expect(r).toMatchObject({ mismatch: true, pValue: 0 });
  });

  test('no assignments yet: no mismatch', () => {
    expect(sampleRatioMismatch([{ observed: {}, shares: configured }])).toMatchObject({ mismatch: false, pValue: 1, alpha: SRM_ALPHA });
  });
});
