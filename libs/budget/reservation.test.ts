import { describe, expect, test } from 'vitest';
import type { PricePeriod } from '../config/types.ts';
import { budgetExhaustedError } from './exhausted.ts';
import {
  budgetLimits,
  budgetWindows,
  chooseDowngrade,
  crossedThresholds,
  estimateInputTokens,
  estimatePromptTokens,
  forecastMonthEnd,
  MESSAGE_OVERHEAD_TOKENS,
  thresholdMicros,
  worstCaseMicros,
} from './reservation.ts';

const simulatorTokens = (texts: string[]): number => Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);

describe('estimateInputTokens', () => {
  test('bounds tokens by UTF-8 bytes (no byte-level BPE token is shorter than a byte), plus the message overhead', () => {
    expect(estimateInputTokens('')).toBe(MESSAGE_OVERHEAD_TOKENS);
    expect(estimateInputTokens('abcd')).toBe(4 + MESSAGE_OVERHEAD_TOKENS);
    expect(estimateInputTokens('1 2 3 4 5 6')).toBe(11 + MESSAGE_OVERHEAD_TOKENS);
  });

  test('counts multi-byte characters by their bytes', () => {
    expect(estimateInputTokens('数据科学家')).toBe(15 + MESSAGE_OVERHEAD_TOKENS);
    expect(estimateInputTokens('ab🚀')).toBe(2 + 4 + MESSAGE_OVERHEAD_TOKENS);
  });

  test('never under-estimates the simulator over system plus user text', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = 'abc XYZ.,\n0é数🚀';
    for (let i = 0; i < 500; i++) {
      const texts = [0, 1].map(() => Array.from({ length: rnd(300) }, () => alphabet[rnd(alphabet.length)]).join(''));
      expect(estimatePromptTokens(texts)).toBeGreaterThanOrEqual(simulatorTokens(texts));
    }
  });
});

describe('worstCaseMicros', () => {
  const price: PricePeriod = { effective_from: '2024-01-01', input_per_mtok_usd: 3, output_per_mtok_usd: 15, cached_input_per_mtok_usd: 0.3 };
  test('charges every input token at the full price plus all output tokens', () => {
    expect(worstCaseMicros(500, 1000, price)).toBe(500 * 3 + 1000 * 15);
    expect(worstCaseMicros(500, 500, { effective_from: '2023-03-14', input_per_mtok_usd: 30, output_per_mtok_usd: 60 })).toBe(45_000);
  });
});

describe('budgetLimits', () => {
  test('converts dollars to micro-dollars', () => {
    expect(budgetLimits({ monthly_usd: 5000, daily_usd: null })).toEqual({ monthlyMicros: 5_000_000_000, dailyMicros: null });
    expect(budgetLimits({ monthly_usd: 0.1, daily_usd: 2.5 })).toEqual({ monthlyMicros: 100_000, dailyMicros: 2_500_000 });
  });
});

describe('budgetWindows', () => {
  test('answers the UTC month and day and when they end', () => {
    const w = budgetWindows(new Date('2026-11-25T23:59:59.999Z'));
    expect(w).toEqual({
      month: '2026-11',
      day: '2026-11-25',
      monthStartsAt: Date.parse('2026-11-01T00:00:00Z'),
      monthEndsAt: Date.parse('2026-12-01T00:00:00Z'),
      dayEndsAt: Date.parse('2026-11-26T00:00:00Z'),
    });
  });

  test('rolls over the year and leap days', () => {
    expect(budgetWindows(new Date('2026-12-31T12:00:00Z')).monthEndsAt).toBe(Date.parse('2027-01-01T00:00:00Z'));
    const leap = budgetWindows(new Date('2028-02-29T00:00:00Z'));
    expect([leap.day, leap.dayEndsAt]).toEqual(['2028-02-29', Date.parse('2028-03-01T00:00:00Z')]);
  });
});

describe('forecastMonthEnd', () => {
  test('extrapolates the burn rate so far to the whole month', () => {
    // November has 30 days: 1,000 dollars after 10 days forecasts 3,000.
    expect(forecastMonthEnd(1_000_000_000, new Date('2026-11-11T00:00:00Z'))).toBe(3_000_000_000);
  });

  test('extrapolates from at least one hour and never forecasts less than spent', () => {
    const start = new Date('2026-11-01T00:00:00Z');
    expect(forecastMonthEnd(1000, start)).toBe(1000 * 30 * 24);
    expect(forecastMonthEnd(0, new Date('2026-11-20T00:00:00Z'))).toBe(0);
    expect(forecastMonthEnd(5, new Date('2026-11-30T23:59:59.999Z'))).toBeGreaterThanOrEqual(5);
  });
});

describe('crossedThresholds', () => {
  const t = [0.8, 0.9, 0.95, 1.0];
  test('answers each threshold passed upward, at or above it', () => {
    expect(crossedThresholds(0, 79, 100, t)).toEqual([]);
    expect(crossedThresholds(79, 80, 100, t)).toEqual([0.8]);
    expect(crossedThresholds(80, 96, 100, t)).toEqual([0.9, 0.95]);
    expect(crossedThresholds(0, 150, 100, [1.0, 0.8])).toEqual([0.8, 1.0]);
    expect(crossedThresholds(96, 90, 100, t)).toEqual([]);
  });

  test('is exact at the real limit', () => {
    expect(thresholdMicros(5_000_000_000, 0.9)).toBe(4_500_000_000);
    expect(thresholdMicros(5_000_000_000, 0.95)).toBe(4_750_000_000);
    expect(crossedThresholds(4_499_999_999, 4_500_000_000, 5_000_000_000, t)).toEqual([0.9]);
  });
});

describe('chooseDowngrade', () => {
  const a = { provider: 'openai', model: 'gpt-4', worstCaseMicros: 90_000 };
  const b = { provider: 'anthropic', model: 'sonnet', worstCaseMicros: 20_000 };
  const c = { provider: 'openai', model: 'gpt-4o-mini', worstCaseMicros: 1_000 };
  test('picks the cheapest that fits', () => {
    expect(chooseDowngrade([a, b, c], 50_000)).toBe(c);
    expect(chooseDowngrade([a, b], 50_000)).toBe(b);
    expect(chooseDowngrade([a, b], 20_000)).toBe(b);
    expect(chooseDowngrade([a, b, c], 999)).toBeNull();
    expect(chooseDowngrade([], 1e9)).toBeNull();
  });

  test('keeps the configured order among equal costs', () => {
    const d = { ...c, model: 'other' };
    expect(chooseDowngrade([d, c], 5_000)).toBe(d);
  });
});

describe('budgetExhaustedError', () => {
  test('answers 429 with Retry-After until the window ends', () => {
    const e = budgetExhaustedError({ window: 'day', retryAtMs: 10_500 }, 1_000);
    expect([e.code, e.status, e.retryAfterSeconds]).toEqual(['budget_exhausted', 429, 10]);
    expect(budgetExhaustedError({ window: 'month', retryAtMs: 1_000 }, 1_000).retryAfterSeconds).toBe(1);
  });
});
