import { describe, expect, test } from 'vitest';
import { LATENCY_BUCKETS_S, bucketIndex, histogramQuantile } from './histogram.ts';

const counts = (entries: Record<number, number>): number[] => Array.from({ length: LATENCY_BUCKETS_S.length + 1 }, (_, i) => entries[i] ?? 0);

describe('bucketIndex', () => {
  test.each([
    [0, 0],
    [0.05, 0],
    [0.051, 1],
    [3, 6],
    [3.2, 7],
    [120, 13],
    [500, 14],
  ])('%s s falls in bucket %s', (s, i) => expect(bucketIndex(s)).toBe(i));
});

describe('histogramQuantile', () => {
  test('empty counts have no quantile', () => expect(histogramQuantile(0.95, counts({}))).toBeNull());

  test('interpolates inside the bucket like Prometheus', () => {
    // 90 jobs in (0.25, 0.5], 10 in (3, 5]: rank 95 is half-way through the slow bucket.
    expect(histogramQuantile(0.95, counts({ 3: 90, 7: 10 }))).toBeCloseTo(4, 6);
  });

  test('a p95 inside the fast buckets stays under them', () => {
    expect(histogramQuantile(0.95, counts({ 3: 100 }))).toBeCloseTo(0.4875, 6);
  });

  test('the +Inf bucket answers the highest finite bound', () => {
    expect(histogramQuantile(0.95, counts({ 14: 5 }))).toBe(120);
  });

  test('the first bucket starts at zero', () => {
    expect(histogramQuantile(0.5, counts({ 0: 10 }))).toBeCloseTo(0.025, 6);
  });
});
