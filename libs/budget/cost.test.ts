import { describe, expect, test } from 'vitest';
import type { ModelSettings } from '../config/types.ts';
import { batchPrice, costMicros, microsToUsd, priceAt } from './cost.ts';

const model: ModelSettings = {
  max_output_tokens: 4096,
  prices: [
    { effective_from: '2024-10-22', input_per_mtok_usd: 3, output_per_mtok_usd: 15, cached_input_per_mtok_usd: 0.3 },
    { effective_from: '2026-01-01', input_per_mtok_usd: 2, output_per_mtok_usd: 10 },
  ],
};

describe('cost', () => {
  test('uses the price in force on the day', () => {
    expect(priceAt(model, new Date('2025-06-01T00:00:00Z')).input_per_mtok_usd).toBe(3);
    expect(priceAt(model, new Date('2026-01-01T00:00:00Z')).input_per_mtok_usd).toBe(2);
    expect(() => priceAt(model, new Date('2020-01-01T00:00:00Z'))).toThrow(/no price/);
  });

  test('periods in any order: the latest started wins; of two starting the same day, the last listed', () => {
    const shuffled: ModelSettings = {
      max_output_tokens: 4096,
      prices: [
        { effective_from: '2026-01-01', input_per_mtok_usd: 2, output_per_mtok_usd: 10 },
        { effective_from: '2027-01-01', input_per_mtok_usd: 9, output_per_mtok_usd: 9 },
        { effective_from: '2024-10-22', input_per_mtok_usd: 3, output_per_mtok_usd: 15 },
        { effective_from: '2026-01-01', input_per_mtok_usd: 1, output_per_mtok_usd: 5 },
      ],
    };
    expect(priceAt(shuffled, new Date('2025-06-01T00:00:00Z')).input_per_mtok_usd).toBe(3);
    expect(priceAt(shuffled, new Date('2026-06-01T00:00:00Z')).input_per_mtok_usd).toBe(1);
    expect(priceAt(shuffled, new Date('2027-01-01T00:00:00Z')).input_per_mtok_usd).toBe(9);
  });

  test('GPT-4 list price: 500 in + 500 out tokens cost 4.5 cents', () => {
    const gpt4 = { effective_from: '2023-03-14', input_per_mtok_usd: 30, output_per_mtok_usd: 60 };
    expect(costMicros({ inputTokens: 500, outputTokens: 500 }, gpt4)).toBe(45_000);
    expect(microsToUsd(45_000)).toBe(0.045);
  });

  test('charges cached input at the cached price and rounds up', () => {
    const price = model.prices[0]!;
    expect(costMicros({ inputTokens: 1000, cachedInputTokens: 400, outputTokens: 1 }, price)).toBe(600 * 3 + 400 * 0.3 + 15);
    expect(costMicros({ inputTokens: 1, cachedInputTokens: 1, outputTokens: 0 }, price)).toBe(1);
  });
});

describe('batchPrice', () => {
  const period = { effective_from: '2024-10-22', input_per_mtok_usd: 3, output_per_mtok_usd: 15, cached_input_per_mtok_usd: 0.3, batch_input_per_mtok_usd: 1.5, batch_output_per_mtok_usd: 7.5 };
  test('a period without batch prices has none', () => {
    expect(batchPrice({ effective_from: '2024-01-01', input_per_mtok_usd: 30, output_per_mtok_usd: 60 })).toBeNull();
  });
  test('half the realtime price costs half, rounded up to the micro-dollar', () => {
    const usage = { inputTokens: 1234, outputTokens: 777 };
    const realtime = costMicros(usage, period);
    expect(costMicros(usage, batchPrice(period)!)).toBe(Math.ceil(realtime / 2));
  });
  test('cached input falls back to the batch input price, and the batch cached price wins when set', () => {
    expect(batchPrice(period)!.cached_input_per_mtok_usd).toBe(1.5);
    expect(batchPrice({ ...period, batch_cached_input_per_mtok_usd: 0.15 })!.cached_input_per_mtok_usd).toBe(0.15);
  });
});
