import { describe, expect, test } from 'vitest';
import { DEFAULT_WEBHOOK_ATTEMPTS, DEFAULT_WEBHOOK_DELAYS_MS, webhookBackoffMs, webhookBackoffStrategy } from './schedule.ts';

const exact = { jitter: 0 };

describe('webhookBackoffMs', () => {
  test('follows the default schedule: about 8 attempts over about a day', () => {
    const delays = Array.from({ length: DEFAULT_WEBHOOK_ATTEMPTS - 1 }, (_, i) => webhookBackoffMs(i + 1, exact));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(DEFAULT_WEBHOOK_ATTEMPTS).toBe(8);
    const hours = DEFAULT_WEBHOOK_DELAYS_MS.reduce((a, b) => a + b, 0) / 3_600_000;
    expect(hours).toBeGreaterThan(20);
    expect(hours).toBeLessThan(30);
  });

  test('repeats the last delay past the end and treats 0 as the first', () => {
    expect(webhookBackoffMs(20, exact)).toBe(36_000_000);
    expect(webhookBackoffMs(0, exact)).toBe(5_000);
  });

  test('takes a custom schedule and jitters within the bound', () => {
    expect(webhookBackoffMs(2, { delaysMs: [10, 20], jitter: 0 })).toBe(20);
    expect(webhookBackoffMs(1, { delaysMs: [1000], jitter: 0.1, random: () => 0 })).toBe(900);
    expect(webhookBackoffMs(1, { delaysMs: [1000], jitter: 0.1, random: () => 0.999999 })).toBe(1100);
    expect(webhookBackoffMs(3, { delaysMs: [] })).toBe(0);
  });

  test('the BullMQ strategy applies the same schedule', () => {
    expect(webhookBackoffStrategy({ delaysMs: [7, 9], jitter: 0 })(2)).toBe(9);
  });
});
