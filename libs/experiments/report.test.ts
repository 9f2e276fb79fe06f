import { describe, expect, it } from 'vitest';
import type { ExperimentRow } from '../store/types.ts';
import { experimentRow as row, seededExperimentRows, twoVariantExperiment } from './sampleRows.ts';
import { MODEL_ONLY_NOTE, analyseExperiment, reportSince, servedByOwnModel } from './report.ts';
import { MISMATCH_WARNING } from './reportVerdict.ts';

const NOW = new Date('2026-03-31T12:00:00.000Z');
const SINCE = '2026-03-01T12:00:00.000Z';
const experiment = twoVariantExperiment();

/** 30 rated answers per variant from distinct users: gpt4 rated 5/3 (mean 4), claude 4/2 (mean 3). */
function ratedRows(): ExperimentRow[] {
  const rated = (variant: string, high: number, low: number) => Array.from({ length: 30 }, (_, i) => row(variant, { rating: i % 2 ? low : high, unit: `${variant}-${i}` }));
  return [...rated('gpt4', 5, 3), ...rated('claude', 4, 2)];
}

describe('analyseExperiment', () => {
  it('assembles every section: figures per variant, control against each other variant, SRM, verdict, categories, cost', () => {
    const withHoldout = twoVariantExperiment({ holdout: 0.02 });
    const report = analyseExperiment('career_model_ab', withHoldout, [...ratedRows(), row('', { status: 'failed', served_by: null }), row('gpt4', { holdout: true, unit: 'h' })], NOW, { since: SINCE });
    expect(report).toMatchObject({ experiment: 'career_model_ab', since: SINCE, generated_at: NOW.toISOString(), confidence: 0.95, note: MODEL_ONLY_NOTE, unassigned_jobs: 1, holdout_jobs: 1 });
    expect(report.variants.map((v) => [v.variant, v.jobs, v.units])).toEqual([
      ['gpt4', 30, 30],
      ['claude', 30, 30],
    ]);
    expect(report.comparisons).toHaveLength(1);
    expect(report.comparisons[0]!.a).toBe('gpt4');
    expect(report.comparisons[0]!.tests.map((t) => t.metric)).toEqual(['provider_latency_ms', 'error_rate', 'cost_per_job_usd', 'cost_per_successful_job_usd', 'rating']);
    expect(report.sample_ratio).toMatchObject({ counted: 'units', observed: { gpt4: 30, claude: 30, holdout: 1 }, mismatch: false });
    expect(report.categories.map((c) => c.field)).toEqual(['sector', 'degree_level', 'experience_band']);
    expect(report.cost.by_variant.map((v) => v.variant)).toEqual(['gpt4', 'claude']);
  });

  it('keeps the headline cost test over all jobs and adds each lane’s cost per job beside it', () => {
    // Same realtime price for both; claude sends half its jobs through the batch lane at half price.
    const rows = Array.from({ length: 40 }, (_, i) => [
      row('gpt4', { unit: `g-${i}`, cost_usd: 0.02 }),
      row('claude', { unit: `c-${i}`, ...(i % 2 ? { lane: 'batch' as const, cost_usd: 0.01 } : { cost_usd: 0.02 }) }),
    ]).flat();
    const report = analyseExperiment('e', experiment, rows, NOW, { since: SINCE });
    expect(report.variants.map((v) => v.cost_usd.per_job.estimate)).toEqual([0.02, 0.015]);
    expect(report.comparisons[0]!.tests.find((t) => t.metric === 'cost_per_job_usd')!.difference).toBeCloseTo(0.005, 9);
    expect(report.cost.lanes.by_variant.map((v) => [v.variant, v.realtime.per_job_usd, v.batch.per_job_usd, v.batch_share])).toEqual([
      ['gpt4', 0.02, null, 0],
      ['claude', 0.02, 0.01, 0.5],
    ]);
    expect(report.cost.lanes.note).toMatch(/differ by 50\.0 points/);
  });

  it('leaves batch answers out of the latency comparison (their latency is the batch turnaround), not out of cost', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [
      row('gpt4', { unit: `g-${i}`, provider_latency_ms: 500 }),
      row('claude', { unit: `c-${i}`, provider_latency_ms: 400 }),
      row('claude', { unit: `cb-${i}`, lane: 'batch' as const, provider_latency_ms: 600_000 }),
    ]).flat();
    const report = analyseExperiment('e', experiment, rows, NOW, { since: SINCE });
    expect(report.variants.map((v) => v.provider_latency_ms.n)).toEqual([20, 20]);
    expect(report.variants[1]!.provider_latency_ms.p95.estimate).toBe(400);
    expect(report.variants[1]!.jobs).toBe(40);
  });

  it('the verdict names the winner with its interval and says what the rest still needs', () => {
    const { verdict } = analyseExperiment('e', experiment, ratedRows(), NOW, { since: SINCE });
    const rating = verdict.findings.find((f) => f.metric === 'rating')!;
    expect(rating).toMatchObject({ winner: 'gpt4', confidence: 'high' });
    expect(rating.sentence).toMatch(/^gpt4 is rated higher by 1 \(95% CI 0\.\d+ to 1\.\d+\), p < 0\.001/);
    expect(verdict.text).toContain('gpt4 is rated higher by 1');
    expect(verdict.text).toMatch(/no detectable difference in error rate/);
    expect(verdict.text.startsWith(MISMATCH_WARNING)).toBe(false);
  });

  it('a sample-ratio mismatch leads the verdict with a warning', () => {
    const lopsided = [...Array.from({ length: 600 }, (_, i) => row('gpt4', { unit: `a-${i}` })), ...Array.from({ length: 400 }, (_, i) => row('claude', { unit: `b-${i}` }))];
    const report = analyseExperiment('e', experiment, lopsided, NOW, { since: SINCE });
    expect(report.sample_ratio.mismatch).toBe(true);
    expect(report.verdict.text.startsWith(MISMATCH_WARNING)).toBe(true);
  });

  it('one variant, or none with rows: figures without comparisons, and nothing to compare', () => {
    const single = twoVariantExperiment({ variants: [experiment.variants[0]!] });
    const report = analyseExperiment('e', single, [row('gpt4')], NOW, { since: SINCE });
    expect(report.comparisons).toEqual([]);
    expect(report.verdict.text).toBe('Nothing to compare yet.');
    expect(report.categories.every((c) => c.rows.length === 0)).toBe(true);
    const empty = analyseExperiment('e', experiment, [], NOW, { since: SINCE });
    expect(empty.variants.map((v) => v.jobs)).toEqual([0, 0]);
    expect(empty.verdict.findings.every((f) => f.winner === null)).toBe(true);
  });

  it('honours the confidence level in every interval', () => {
    const report = analyseExperiment('e', experiment, ratedRows(), NOW, { since: SINCE, confidence: 0.8 });
    const wide = analyseExperiment('e', experiment, ratedRows(), NOW, { since: SINCE });
    expect(report.confidence).toBe(0.8);
    const width = (r: typeof report) => r.variants[0]!.rating.mean.upper! - r.variants[0]!.rating.mean.lower!;
    expect(width(report)).toBeLessThan(width(wide));
    expect(report.verdict.text).toContain('80% CI');
  });

  it('analyses 300,000 rows in two variants with ~20 values per category field', { timeout: 60_000 }, () => {
    const rows = seededExperimentRows(300_000);
    const report = analyseExperiment('e', experiment, rows, NOW, { since: SINCE });
    expect(report.variants.reduce((sum, v) => sum + v.jobs, 0)).toBe(300_000);
    expect(report.variants[0]!.provider_latency_ms.p95.method).toBe('order_statistic');
    expect(report.categories[0]!.rows).toHaveLength(20);
    expect(report.comparisons[0]!.tests.find((t) => t.metric === 'provider_latency_ms')!.winner).toBe('gpt4');
  });
});

describe('servedByOwnModel', () => {
  it('is true only for completed, provider-served, not degraded answers', () => {
    expect(servedByOwnModel(row('gpt4'))).toBe(true);
    expect(servedByOwnModel(row('gpt4', { served_by: 'failover' }))).toBe(false);
    expect(servedByOwnModel(row('gpt4', { degraded: true }))).toBe(false);
    expect(servedByOwnModel(row('gpt4', { status: 'failed' }))).toBe(false);
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
