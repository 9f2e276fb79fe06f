import { describe, expect, it } from 'vitest';
import type { FinishedRow } from '../store/types.ts';
import { percentiles, windowFigures } from './aggregate.ts';

const row = (overrides: Partial<FinishedRow> = {}): FinishedRow => ({
  client_id: 'c1',
  status: 'completed',
  provider: 'openai',
  experiment_id: 'exp',
  variant: 'gpt4',
  served_by: 'provider',
  cost_usd: 0.01,
  provider_latency_ms: 1000,
  total_latency_ms: 1100,
  error_code: null,
  completed_at: '2026-12-02T01:00:00.000Z',
  ...overrides,
});

describe('percentiles', () => {
  it('answers nulls for no values', () => {
    expect(percentiles([])).toEqual({ p50: null, p95: null, p99: null });
  });

  it.each([
    [[7], { p50: 7, p95: 7, p99: 7 }],
    [[3, 1, 2], { p50: 2, p95: 3, p99: 3 }],
    [[1, 2, 3, 4], { p50: 2, p95: 4, p99: 4 }],
    [Array.from({ length: 100 }, (_, i) => 100 - i), { p50: 50, p95: 95, p99: 99 }],
    [Array.from({ length: 1000 }, (_, i) => i + 1), { p50: 500, p95: 950, p99: 990 }],
  ])('nearest rank of %j', (values, expected) => {
    expect(percentiles(values)).toEqual(expected);
  });
});

describe('windowFigures', () => {
  it('answers zeros and nulls for an empty window', () => {
    expect(windowFigures([])).toEqual({
      jobs: 0,
      spend: { total_usd: 0, by_provider: {}, by_variant: [] },
      latency_ms: {},
      errors: { outcomes: 0, failed: 0, rate: null, by_code: {} },
    });
  });

  it('sums spend in micro-dollars by provider and by variant, without float drift', () => {
    const rows = [
      ...Array.from({ length: 10 }, () => row({ cost_usd: 0.1 })),
      row({ provider: 'anthropic', variant: 'claude', cost_usd: 0.0000015, client_id: 'c2' }),
      row({ provider: 'anthropic', variant: 'claude', cost_usd: null, status: 'failed', error_code: 'provider_unavailable', provider_latency_ms: null }),
    ];
    const f = windowFigures(rows);
    expect(f.spend.total_usd).toBe(1.000002);
    expect(f.spend.by_provider).toEqual({ anthropic: { usd: 0.000002, jobs: 2 }, openai: { usd: 1, jobs: 10 } });
    expect(f.spend.by_variant.map(({ variant, usd, jobs, failed, clients }) => ({ variant, usd, jobs, failed, clients }))).toEqual([
      { variant: 'claude', usd: 0.000002, jobs: 2, failed: 1, clients: ['c1', 'c2'] },
      { variant: 'gpt4', usd: 1, jobs: 10, failed: 0, clients: ['c1'] },
    ]);
  });

  it('measures provider latency only on jobs a provider answered', () => {
    const rows = [
      row({ provider_latency_ms: 100 }),
      row({ provider_latency_ms: 300 }),
      row({ provider_latency_ms: 200, served_by: 'failover' }),
      row({ provider_latency_ms: 1, served_by: 'cache' }),
      row({ provider_latency_ms: 1, served_by: 'degraded' }),
      row({ provider_latency_ms: 250, served_by: null }),
      row({ provider: null, provider_latency_ms: 5 }),
    ];
    expect(windowFigures(rows).latency_ms).toEqual({ openai: { jobs: 4, p50: 200, p95: 300, p99: 300 } });
    expect(windowFigures(rows).spend.by_variant[0]!.latency_ms).toEqual({ p50: 200, p95: 300, p99: 300 });
  });

  it('rates errors over completed and failed jobs, by code; cancelled and rejected ones do not count', () => {
    const rows = [
      row(),
      row(),
      row({ status: 'failed', error_code: 'provider_unavailable' }),
      row({ status: 'failed', error_code: null }),
      row({ status: 'cancelled' }),
      row({ status: 'rejected' }),
    ];
    expect(windowFigures(rows).errors).toEqual({ outcomes: 4, failed: 2, rate: 0.5, by_code: { provider_unavailable: 1, unknown: 1 } });
  });

  it('keeps each variant\'s latencies apart', () => {
    const rows = [10, 20, 30].flatMap((ms) => [row({ variant: 'gpt4', provider_latency_ms: ms }), row({ variant: 'claude', provider: 'anthropic', provider_latency_ms: ms * 100 })]);
    expect(windowFigures(rows).spend.by_variant.map((v) => [v.variant, v.latency_ms.p50])).toEqual([
      ['claude', 2000],
      ['gpt4', 20],
    ]);
  });

  it('leaves jobs outside any experiment out of the variant lines', () => {
    expect(windowFigures([row({ experiment_id: null, variant: null })]).spend.by_variant).toEqual([]);
  });
});
