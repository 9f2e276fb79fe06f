import { describe, expect, test } from 'vitest';
import { bucketQuantile, LLM_SECONDS_BUCKETS } from './buckets.ts';

describe('bucketQuantile (Prometheus histogram_quantile over the same buckets)', () => {
  test.each([
    // Ten values in (0.5, 1]: the rank 9.5 sits 95% into that bucket.
    [0.95, Array(10).fill(0.7), 0.5 + 0.5 * 0.95],
    // Half in the first bucket, half in (1, 2]: the median is the first bucket's top.
    [0.5, [0.01, 0.01, 1.5, 1.5], 0.05],
    [0.75, [0.01, 0.01, 1.5, 1.5], 1.5],
    // Values past the last bound answer the highest finite bound.
    [0.99, [200, 300], 120],
    // A value equal to a bound belongs to that bucket.
    [1, [3], 3],
  ])('q=%s of %j is %s', (q, values, expected) => {
    expect(bucketQuantile(q, values)).toBeCloseTo(expected, 9);
  });

  test('no values: NaN', () => {
    expect(bucketQuantile(0.95, [])).toBeNaN();
  });

  test('the contract buckets run from 50 ms to 120 s', () => {
    expect(LLM_SECONDS_BUCKETS[0]).toBe(0.05);
    expect(LLM_SECONDS_BUCKETS.at(-1)).toBe(120);
  });
});
