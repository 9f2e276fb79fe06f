import { describe, expect, test } from 'vitest';
import { adjustPValues, benjaminiHochbergAdjust, holmAdjust } from './corrections.ts';

describe('holmAdjust', () => {
  // Wikipedia, "Holm–Bonferroni method", Example: four hypotheses with p = 0.01, 0.04, 0.03 and
  // 0.005 at α = 0.05; H1 and H4 are rejected, H2 and H3 are not.
  test('reproduces the Wikipedia example', () => {
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted.map((p) => p < 0.05)).toEqual([true, false, false, true]);
    // Step-down values (as R's p.adjust(method = "holm")): 4·0.005, 3·0.01, max(2·0.03, …), max(1·0.04, …).
    expect(adjusted[3]).toBeCloseTo(0.02, 12);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
  });
});

describe('benjaminiHochbergAdjust', () => {
  // Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57:289–300,
  // section 3.2: fifteen p-values from a multiple-endpoint trial; at q = 0.05 the step-up
  // procedure rejects the four smallest (Bonferroni only three).
  const ps = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];

  test('reproduces the Benjamini–Hochberg example', () => {
    const adjusted = benjaminiHochbergAdjust(ps);
    expect(adjusted.filter((p) => p <= 0.05)).toHaveLength(4);
    expect(adjusted[3]).toBeCloseTo((0.0095 * 15) / 4, 12);
    expect(ps.filter((p) => p <= 0.05 / 15)).toHaveLength(3);
  });

  test('keeps the input order and never lowers a p-value', () => {
    const shuffled = [ps[7]!, ps[0]!, ps[14]!, ps[3]!];
    const adjusted = benjaminiHochbergAdjust(shuffled);
    adjusted.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(shuffled[i]!));
    expect(adjustPValues(shuffled, 'bh')).toEqual(adjusted);
    expect(adjustPValues(shuffled, 'holm')).toEqual(holmAdjust(shuffled));
  });

  test('an empty family is fine; a p-value outside [0, 1] is refused', () => {
    expect(benjaminiHochbergAdjust([])).toEqual([]);
    expect(() => holmAdjust([1.2])).toThrow(/within \[0, 1\]/);
  });
});
