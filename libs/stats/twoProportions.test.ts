import { describe, expect, test } from 'vitest';
import { fisherExact } from './fisher.ts';
import { compareProportions, newcombeDifference, twoProportionZTest } from './twoProportions.ts';

describe('fisherExact', () => {
  // Fisher (1935), The Design of Experiments, the lady tasting tea: 3 of 4 milk-first cups named
  // correctly. R's fisher.test(TeaTasting) two-sided p-value = 0.4857.
  test('reproduces the tea-tasting example', () => {
    expect(fisherExact({ a: 3, b: 1, c: 1, d: 3 })).toBeCloseTo(0.4857, 4);
  });

  test('the all-correct tea table: p = 2/70', () => {
    expect(fisherExact({ a: 4, b: 0, c: 0, d: 4 })).toBeCloseTo(2 / 70, 12);
  });

  test('a table with no information has p = 1', () => {
    expect(fisherExact({ a: 0, b: 5, c: 0, d: 5 })).toBe(1);
  });
});

describe('newcombeDifference', () => {
  // Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
  // comparison of eleven methods", Statistics in Medicine 17:873–890, Table II, method 10
  // (hybrid score, no continuity correction).
  test.each([
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
  ])('%i/%i − %i/%i: Newcombe gives %f to %f', (x1, n1, x2, n2, lower, upper) => {
    const r = newcombeDifference({ successes: x1, trials: n1 }, { successes: x2, trials: n2 });
    expect(r.lower).toBeCloseTo(lower, 4);
    expect(r.upper).toBeCloseTo(upper, 4);
  });
});

describe('twoProportionZTest', () => {
  test('z² equals Pearson’s chi-square of the 2×2 table (no continuity correction)', () => {
    const table = [[56, 14], [48, 32]];
    const rows = table.map((r) => r[0]! + r[1]!);
    const cols = [table[0]![0]! + table[1]![0]!, table[0]![1]! + table[1]![1]!];
    const n = rows[0]! + rows[1]!;
    let chi = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) chi += (table[i]![j]! - (rows[i]! * cols[j]!) / n) ** 2 / ((rows[i]! * cols[j]!) / n);
    const { z } = twoProportionZTest({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(z * z).toBeCloseTo(chi, 10);
  });
});

describe('compareProportions', () => {
  test('large counts use the z-test', () => {
    const r = compareProportions({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(r.method).toBe('z');
    expect(r.difference).toBeCloseTo(0.2, 12);
    expect(r.pValue).toBeLessThan(0.05);
  });

  test('an expected count below 5 switches to Fisher’s exact test', () => {
    const r = compareProportions({ successes: 3, trials: 4 }, { successes: 1, trials: 4 });
    expect(r.method).toBe('fisher');
    expect(r.pValue).toBeCloseTo(0.4857, 4);
  });

  test('rare errors over many jobs still count as small: Fisher', () => {
    const r = compareProportions({ successes: 2, trials: 1000 }, { successes: 6, trials: 1000 });
    expect(r.method).toBe('fisher');
    expect(r.lower!).toBeLessThan(r.difference!);
  });

  test('a group without trials gives no difference and p = 1', () => {
    expect(compareProportions({ successes: 0, trials: 0 }, { successes: 3, trials: 10 })).toMatchObject({ difference: null, pValue: 1 });
  });
});
