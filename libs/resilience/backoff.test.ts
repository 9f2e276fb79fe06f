import { describe, expect, test } from 'vitest';
import { RETRY_AFTER_JITTER_MS, retryDelayMs } from './backoff.ts';
import type { RetrySettings } from '../config/types.ts';

const settings: RetrySettings = { max_retries: 5, initial_delay_ms: 200, max_delay_ms: 5000, max_retry_after_ms: 10_000 };
const upper = () => 0.999999;

describe('retryDelayMs', () => {
  test('full jitter: zero at random 0, just below the ceiling near random 1', () => {
    expect(retryDelayMs(0, settings, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(0, settings, undefined, upper)).toBe(199);
    expect(retryDelayMs(0, settings, undefined, () => 0.5)).toBe(100);
  });

  test('the ceiling doubles each retry and stops at max_delay_ms', () => {
    expect(retryDelayMs(1, settings, undefined, upper)).toBe(399);
    expect(retryDelayMs(2, settings, undefined, upper)).toBe(799);
    expect(retryDelayMs(4, settings, undefined, upper)).toBe(3199);
    expect(retryDelayMs(5, settings, undefined, upper)).toBe(4999);
    expect(retryDelayMs(60, settings, undefined, upper)).toBe(4999);
    expect(retryDelayMs(5000, settings, undefined, () => 0.5)).toBe(2500);
  });

  test('retry-after is honoured as a floor, plus a small jitter', () => {
    expect(retryDelayMs(0, settings, 2000, () => 0)).toBe(2000);
    const d = retryDelayMs(0, settings, 2000, upper);
    expect(d).toBeGreaterThanOrEqual(2000);
    expect(d).toBeLessThanOrEqual(2000 + RETRY_AFTER_JITTER_MS);
  });

  test('retry-after shorter than the exponential delay keeps the exponential delay', () => {
    expect(retryDelayMs(5, settings, 10, upper)).toBe(4999);
  });

  test('retry-after of zero still waits at least zero', () => {
    expect(retryDelayMs(0, settings, 0, () => 0)).toBe(0);
  });

  test('retry-after longer than max_retry_after_ms gives up', () => {
    expect(retryDelayMs(0, settings, 10_001, () => 0)).toBe('give_up');
    expect(retryDelayMs(0, settings, 10_000, () => 0)).toBe(10_000);
  });

  test('a broken random source cannot produce negative or NaN delays', () => {
    expect(retryDelayMs(0, settings, undefined, () => -1)).toBe(0);
    expect(retryDelayMs(0, settings, undefined, () => Number.NaN)).toBe(0);
    expect(retryDelayMs(0, settings, undefined, () => 7)).toBe(200);
    expect(retryDelayMs(-3, settings, undefined, upper)).toBe(199);
  });
});
