import { describe, expect, test } from 'vitest';
import { experimentRow as row, twoVariantExperiment } from './sampleRows.ts';
import { variantSamples } from './armSample.ts';
import { rowTable } from './rowTable.ts';
import { bootstrapQuantile, seededRng } from '../stats/index.ts';
import { REPORT_MAX_BOOTSTRAP_N, variantFigures } from './variantFigures.ts';

const experiment = twoVariantExperiment();

/** The figures of every variant of `rows`, configured as `experiment`. */
function figures(rows: Parameters<typeof rowTable>[0]) {
  const table = rowTable(rows, ['gpt4', 'claude']);
  return variantSamples(table).map((sample, arm) =>
    variantFigures({ name: table.variants[arm]!, sample, config: experiment.variants[arm], totalWeight: 100, confidence: 0.95 }),
  );
}

describe('variantFigures', () => {
  test('rates carry Wilson intervals: 8 of 10 completed gives [0.4902, 0.9433]', () => {
    // 8 completed, 2 failed (Wilson 95% for 8/10: centre 0.7167, half-width 0.2266).
    const rows = [...Array.from({ length: 8 }, () => row('gpt4')), ...Array.from({ length: 2 }, () => row('gpt4', { status: 'failed', served_by: null, cost_usd: null }))];
    const [gpt4] = figures(rows);
    expect(gpt4).toMatchObject({ jobs: 10, completed: 8, failed: 2, rejected: 0, configured_share: 0.5, provider: 'openai', model: 'gpt-4', prompt_version: null });
    expect(gpt4!.completion_rate).toMatchObject({ count: 8, of: 10, estimate: 0.8, method: 'wilson' });
    expect(gpt4!.completion_rate.lower).toBeCloseTo(0.4902, 4);
    expect(gpt4!.completion_rate.upper).toBeCloseTo(0.9433, 4);
    expect(gpt4!.error_rate).toMatchObject({ count: 2, of: 10, estimate: 0.2 });
    expect(gpt4!.error_rate.lower).toBeCloseTo(1 - 0.9433, 4);
    expect(gpt4!.degraded_rate).toMatchObject({ count: 0, of: 8, estimate: 0, lower: 0 });
  });

  test('a variant without jobs has zeros and null estimates, not NaN', () => {
    const [, claude] = figures([row('gpt4')]);
    expect(claude).toMatchObject({ variant: 'claude', jobs: 0, units: 0, model_served: 0 });
    expect(claude!.completion_rate).toEqual({ count: 0, of: 0, estimate: null, lower: null, upper: null, method: 'wilson' });
    expect(claude!.provider_latency_ms.p50).toMatchObject({ estimate: null, lower: null, upper: null });
    expect(claude!.cost_usd).toMatchObject({ total: 0, per_job: { estimate: null } });
    expect(claude!.rating).toMatchObject({ n: 0, stdev: null });
  });

  test('latency, tokens and ratings use only model-served answers; volume, outcomes and cost count every job', () => {
    const own = [row('gpt4', { provider_latency_ms: 1000, rating: 5, unit: 'a' }), row('gpt4', { provider_latency_ms: 3000, rating: 3, unit: 'b' })];
    const others = [
      row('gpt4', { served_by: 'failover', provider_latency_ms: 9000, rating: 1, cost_usd: 0.05, unit: 'a' }),
      row('gpt4', { served_by: 'cache', cache: 'hit', provider_latency_ms: 0, rating: 1, cost_usd: 0 }),
      row('gpt4', { served_by: 'degraded', degraded: true, provider_latency_ms: null, rating: 1, cost_usd: 0 }),
      row('gpt4', { served_by: null, rating: 1 }), // written before served_by existed
    ];
    const [gpt4] = figures([...own, ...others]);
    // Units a, b and the default u-1.
    expect(gpt4).toMatchObject({ jobs: 6, units: 3, completed: 6, model_served: 2 });
    expect(gpt4!.served_by).toEqual({ provider: 2, failover: 1, downgrade: 0, cache: 1, stale_cache: 0, category_cache: 0, degraded: 1, unknown: 1 });
    expect(gpt4!.degraded_rate).toMatchObject({ count: 1, of: 6 });
    expect(gpt4!.provider_latency_ms.n).toBe(2);
    expect(gpt4!.provider_latency_ms.p50.estimate).toBe(2000);
    expect(gpt4!.rating).toMatchObject({ n: 2, mean: { estimate: 4 } });
    expect(gpt4!.rating.stdev).toBeCloseTo(Math.SQRT2, 12);
    expect(gpt4!.tokens).toEqual({ jobs: 2, input: 1000, output: 800, cost_usd: 0.02 });
    // Cost: 0.01 + 0.01 + 0.05 + 0 + 0 + 0.01 over six jobs, all completed.
    expect(gpt4!.cost_usd.total).toBe(0.08);
    expect(gpt4!.cost_usd.per_job.estimate).toBeCloseTo(0.08 / 6, 6);
    expect(gpt4!.cost_usd.per_successful_job.estimate).toBeCloseTo(0.08 / 6, 6);
  });

  test('cost per successful job is over completed jobs only; per job over all', () => {
    const rows = [row('gpt4', { cost_usd: 0.03 }), row('gpt4', { cost_usd: 0.01 }), row('gpt4', { status: 'failed', served_by: null, cost_usd: 0.02 }), row('gpt4', { status: 'rejected', served_by: null, cost_usd: null })];
    const [gpt4] = figures(rows);
    expect(gpt4!.cost_usd.total).toBe(0.06);
    expect(gpt4!.cost_usd.per_job.estimate).toBe(0.015);
    expect(gpt4!.cost_usd.per_successful_job.estimate).toBe(0.02);
    expect(gpt4).toMatchObject({ failed: 1, rejected: 1, error_rate: { count: 1, of: 4 } });
  });
});

describe('REPORT_MAX_BOOTSTRAP_N', () => {
  test('just above it, the order-statistic interval of a latency percentile agrees with the bootstrap', () => {
    const rng = seededRng(5);
    const latencies = Array.from({ length: REPORT_MAX_BOOTSTRAP_N + 500 }, () => Math.round(Math.exp(6.5 + (rng() + rng() + rng() - 1.5))));
    const [gpt4] = figures(latencies.map((ms) => row('gpt4', { provider_latency_ms: ms })));
    for (const [q, shown] of [[0.5, gpt4!.provider_latency_ms.p50], [0.99, gpt4!.provider_latency_ms.p99]] as const) {
      const boot = bootstrapQuantile(latencies, q, { maxBootstrapN: Infinity });
      expect(shown.method).toBe('order_statistic');
      const width = boot.upper! - boot.lower!;
      expect(Math.abs(shown.lower! - boot.lower!)).toBeLessThan(width / 5);
      expect(Math.abs(shown.upper! - boot.upper!)).toBeLessThan(width / 5);
    }
  });
});

describe('rowTable', () => {
  test('holdout rows and rows without a variant stay out of every variant, counted apart', () => {
    const table = rowTable([row('gpt4'), row('gpt4', { holdout: true, unit: 'h' }), row('', { status: 'failed', served_by: null }), row('claude')], ['gpt4', 'claude']);
    expect(table).toMatchObject({ unassignedJobs: 1, holdoutJobs: 1 });
    expect(variantSamples(table).map((s) => s.jobs)).toEqual([1, 1]);
  });

  test('variants only the rows name follow the configured ones, by name', () => {
    const table = rowTable([row('zeta'), row('alpha'), row('claude')], ['gpt4', 'claude']);
    expect(table.variants).toEqual(['gpt4', 'claude', 'alpha', 'zeta']);
    expect(variantSamples(table).map((s) => s.jobs)).toEqual([0, 1, 1, 1]);
  });
});
