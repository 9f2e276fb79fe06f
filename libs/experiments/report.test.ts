import { describe, expect, it } from 'vitest';
import type { ExperimentRow } from '../store/types.ts';
import { MODEL_ONLY_NOTE, analyseExperiment, reportSince, welchTest } from './report.ts';

const NOW = new Date('2026-03-31T12:00:00.000Z');

/** A completed job the variant's own model answered; override any field. */
function row(variant: string, overrides: Partial<ExperimentRow> = {}): ExperimentRow {
  return {
    variant,
    status: 'completed',
    provider: variant === 'gpt4' ? 'openai' : 'anthropic',
    model: variant === 'gpt4' ? 'gpt-4' : 'claude-3-5-sonnet',
    served_by: 'provider',
    cache: 'miss',
    degraded: false,
    cost_usd: 0.01,
    input_tokens: 500,
    output_tokens: 400,
    provider_latency_ms: 1000,
    total_latency_ms: 1100,
    rating: null,
    ...overrides,
  };
}

/** Rows rated with `ratings`, one per value. */
const rated = (variant: string, ratings: number[]) => ratings.map((rating) => row(variant, { rating }));
const repeat = (value: number, times: number) => Array<number>(times).fill(value);

describe('welchTest', () => {
  it('matches hand-computed t and two-sided normal p-values', () => {
    // Means 4 and 3, sample variances 30/29 each, n = 30: t = 1 / sqrt(2/29) = 3.8079, p = 0.000140.
    const strong = welchTest([...repeat(5, 15), ...repeat(3, 15)], [...repeat(4, 15), ...repeat(2, 15)]);
    expect(strong?.t).toBeCloseTo(3.8078866, 6);
    expect(strong?.p).toBeCloseTo(0.00014016, 6);
    // Means 3.5 and 3.3: t = 1.588, p = 0.1123.
    const weak = welchTest([...repeat(4, 15), ...repeat(3, 15)], [...repeat(4, 9), ...repeat(3, 21)]);
    expect(weak?.t).toBeCloseTo(1.5879985, 6);
    expect(weak?.p).toBeCloseTo(0.1122867, 5);
  });

  it('is symmetric in its p-value and undefined without variation or with one value', () => {
    const a = [...repeat(5, 10), ...repeat(4, 10)];
    const b = [...repeat(3, 10), ...repeat(4, 10)];
    expect(welchTest(b, a)?.p).toBeCloseTo(welchTest(a, b)?.p ?? -1, 12);
    expect(welchTest(b, a)?.t).toBeCloseTo(-(welchTest(a, b)?.t ?? 0), 12);
    expect(welchTest(repeat(4, 30), repeat(4, 30))).toBeNull();
    expect(welchTest([4], [3, 5])).toBeNull();
  });
});

describe('analyseExperiment', () => {
  it('counts outcomes, paths, cost and tokens per variant in the configured order', () => {
    const rows: ExperimentRow[] = [
      row('gpt4', { cost_usd: 0.1, rating: 5 }),
      row('gpt4', { cost_usd: 0.2, rating: 3 }),
      row('gpt4', { served_by: 'cache', cache: 'hit', cost_usd: 0, provider_latency_ms: 0, rating: 1 }),
      row('gpt4', { status: 'failed', served_by: null, provider: null, model: null, cost_usd: null, input_tokens: null, output_tokens: null, provider_latency_ms: null }),
      row('claude', { served_by: 'failover', provider: 'openai', rating: 1 }),
      row('claude', { served_by: 'degraded', degraded: true, cost_usd: 0, input_tokens: 0, output_tokens: 0 }),
      row('claude', { status: 'rejected', served_by: null, cost_usd: null, input_tokens: null, output_tokens: null }),
      row('claude', { served_by: null }),
      row('', { status: 'failed', served_by: null }),
    ];
    const report = analyseExperiment('career_model_ab', rows, NOW, { variants: ['gpt4', 'claude'] });
    expect(report).toMatchObject({ experiment: 'career_model_ab', since: '2026-03-01T12:00:00.000Z', generated_at: NOW.toISOString(), note: MODEL_ONLY_NOTE, unassigned_jobs: 1 });
    expect(report.variants.map((v) => v.variant)).toEqual(['gpt4', 'claude']);
    const [gpt4, claude] = report.variants;
    expect(gpt4).toEqual({
      variant: 'gpt4',
      jobs: 4,
      completed: 3,
      failed: 1,
      rejected: 0,
      completion_rate: 0.75,
      served_by: { provider: 2, failover: 0, downgrade: 0, cache: 1, stale_cache: 0, category_cache: 0, degraded: 0, unknown: 0 },
      cost_usd: { total: 0.3, per_completed_job: 0.1 },
      tokens: { input: 1500, output: 1200 },
      provider_latency_ms: { p50: 1000, p95: 1000 },
      // The cache hit's rating of 1 is not the model's: only 5 and 3 count.
      rating: { n: 2, mean: 4, stdev: Math.SQRT2 },
    });
    expect(claude).toMatchObject({
      jobs: 4,
      completed: 3,
      failed: 0,
      rejected: 1,
      served_by: { provider: 0, failover: 1, degraded: 1, unknown: 1 },
      cost_usd: { total: 0.02, per_completed_job: 0.006667 },
      provider_latency_ms: { p50: null, p95: null },
      rating: { n: 0, mean: null, stdev: null },
    });
    expect(report.comparison).toMatchObject({ metric: 'rating', a: 'gpt4', b: 'claude', difference: null, p_value: null, significant: false });
    expect(report.comparison.note).toContain('at least 30');
  });

  it('takes latency percentiles over answers of the variant’s own model only', () => {
    const own = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((ms) => row('gpt4', { provider_latency_ms: ms }));
    const others = [row('gpt4', { served_by: 'failover', provider_latency_ms: 9000 }), row('gpt4', { served_by: 'downgrade', provider_latency_ms: 9000 })];
    const [gpt4] = analyseExperiment('e', [...own, ...others], NOW, { variants: ['gpt4'] }).variants;
    expect(gpt4?.provider_latency_ms.p50).toBe(550);
    expect(gpt4?.provider_latency_ms.p95).toBeCloseTo(955, 6);
  });

  it('compares the first two variants with Welch’s t-test once both have 30 ratings', () => {
    const rows = [
      ...rated('claude', [...repeat(4, 15), ...repeat(2, 15)]),
      ...rated('gpt4', [...repeat(5, 15), ...repeat(3, 15)]),
      // Not the model's answers: they must not move the means.
      ...rated('claude', repeat(5, 10)).map((r) => ({ ...r, served_by: 'stale_cache' as const })),
    ];
    const report = analyseExperiment('career_model_ab', rows, NOW, { variants: ['gpt4', 'claude'], since: '2026-01-01T00:00:00.000Z' });
    expect(report.since).toBe('2026-01-01T00:00:00.000Z');
    expect(report.variants.map((v) => [v.variant, v.rating.n, v.rating.mean])).toEqual([
      ['gpt4', 30, 4],
      ['claude', 30, 3],
    ]);
    expect(report.variants[0]?.rating.stdev).toBeCloseTo(1.0170953, 6);
    expect(report.comparison).toMatchObject({ metric: 'rating', a: 'gpt4', b: 'claude', difference: 1, significant: true });
    expect(report.comparison.p_value).toBeCloseTo(0.00014016, 6);
    expect(report.comparison.note).toMatch(/Welch.*significant at 0.05/);
  });

  it('a small difference is not significant', () => {
    const rows = [...rated('gpt4', [...repeat(4, 15), ...repeat(3, 15)]), ...rated('claude', [...repeat(4, 9), ...repeat(3, 21)])];
    const { comparison } = analyseExperiment('e', rows, NOW, { variants: ['gpt4', 'claude'] });
    expect(comparison.difference).toBeCloseTo(0.2, 12);
    expect(comparison.p_value).toBeCloseTo(0.1122867, 5);
    expect(comparison.significant).toBe(false);
    expect(comparison.note).toContain('not significant');
  });

  it('reports configured variants without jobs, and variants seen only in rows after them', () => {
    const report = analyseExperiment('e', [row('legacy'), row('gpt4')], NOW, { variants: ['gpt4', 'claude'] });
    expect(report.variants.map((v) => [v.variant, v.jobs, v.completion_rate])).toEqual([
      ['gpt4', 1, 1],
      ['claude', 0, null],
      ['legacy', 1, 1],
    ]);
    expect(report.variants[1]?.cost_usd).toEqual({ total: 0, per_completed_job: null });
  });

  it('needs two variants to compare', () => {
    const { comparison } = analyseExperiment('e', [row('gpt4', { rating: 4 })], NOW);
    expect(comparison).toMatchObject({ a: 'gpt4', b: null, difference: null, p_value: null, significant: false });
    expect(analyseExperiment('e', [], NOW).comparison).toMatchObject({ a: null, b: null });
  });

  it('gives no p-value when no rating varies', () => {
    const rows = [...rated('gpt4', repeat(4, 30)), ...rated('claude', repeat(3, 30))];
    const { comparison } = analyseExperiment('e', rows, NOW, { variants: ['gpt4', 'claude'] });
    expect(comparison).toMatchObject({ difference: 1, p_value: null, significant: false });
    expect(comparison.note).toContain('do not vary');
  });
});

describe('reportSince', () => {
  it('defaults to 30 days before now', () => {
    expect(reportSince(undefined, NOW)).toBe('2026-03-01T12:00:00.000Z');
  });

  it.each([
    ['2026-01-31', '2026-01-31T00:00:00.000Z'],
    ['2026-01-31T08:15:00Z', '2026-01-31T08:15:00.000Z'],
    ['2026-01-31T10:15:00.5+02:00', '2026-01-31T08:15:00.500Z'],
  ])('accepts %s as %s', (value, iso) => {
    expect(reportSince(value, NOW)).toBe(iso);
  });

  it.each([['yesterday'], ['2026-13-01'], ['2026-01-31T08:15:00'], [''], [['2026-01-01', '2026-02-01']], [{ $gt: '' }]])('refuses %j with invalid_query', (value) => {
    expect(() => reportSince(value, NOW)).toThrow(expect.objectContaining({ code: 'invalid_query', status: 400 }));
  });
});
