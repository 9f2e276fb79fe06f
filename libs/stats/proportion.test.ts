import { describe, expect, test } from 'vitest';
import { isGatewayError } from '../errors/index.ts';
import { wilsonInterval } from './proportion.ts';

describe('wilsonInterval', () => {
  // Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of
  // seven methods", Statistics in Medicine 17:857–872, Table II, method 3 (Wilson score, no
  // continuity correction), four decimals.
  test.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [29, 29, 0.883, 1],
    [0, 10, 0, 0.2775],
  ])('%i of %i: Newcombe 1998 gives %f to %f', (x, n, lower, upper) => {
    const w = wilsonInterval(x, n);
    expect(w.lower).toBeCloseTo(lower, 4);
    expect(w.upper).toBeCloseTo(upper, 4);
    expect(w.estimate).toBe(x / n);
  });

  test('no trials: no estimate, the whole unit interval', () => {
    expect(wilsonInterval(0, 0)).toMatchObject({ estimate: null, lower: 0, upper: 1 });
  });

  test('a wider confidence gives a wider interval', () => {
    const w95 = wilsonInterval(30, 100);
    const w99 = wilsonInterval(30, 100, 0.99);
    expect(w99.lower).toBeLessThan(w95.lower);
    expect(w99.upper).toBeGreaterThan(w95.upper);
  });

  test('refuses impossible counts with a typed error', () => {
    for (const [x, n] of [[5, 4], [-1, 4], [1.5, 4]] as const) {
      try {
        wilsonInterval(x, n);
        expect.unreachable();
      } catch (e) {
        expect(isGatewayError(e) && e.code).toBe('stats_invalid_input');
      }
    }
  });
});
