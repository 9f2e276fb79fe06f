import { describe, expect, test } from 'vitest';
import type { ExperimentRow } from '../store/types.ts';
import { experimentRow as row } from './sampleRows.ts';
import { variantSamples } from './armSample.ts';
import { metricTests, orderStatisticMedian, winnerOf, type ComparedArm } from './metricTests.ts';
import type { MetricTest } from './reportTypes.ts';
import { rowTable } from './rowTable.ts';

/** The tests of gpt4 against claude over `rows`, by metric. */
function tests(rows: ExperimentRow[]): Record<string, MetricTest> {
  const table = rowTable(rows, ['gpt4', 'claude']);
  const [a, b] = variantSamples(table).map((sample, arm): ComparedArm => ({ name: table.variants[arm]!, sample, medianLatency: orderStatisticMedian(sample.sortedLatencies, 0.95) }));
  return Object.fromEntries(metricTests(a!, b!, 0.95).map((t) => [t.metric, t]));
}

const many = (count: number, make: (i: number) => ExperimentRow) => Array.from({ length: count }, (_, i) => make(i));

describe('metricTests', () => {
  test('latency: difference of medians, Mann–Whitney p-value and rank-biserial effect, lower wins', () => {
    const rows = [...many(30, (i) => row('gpt4', { provider_latency_ms: 100 + i })), ...many(30, (i) => row('claude', { provider_latency_ms: 400 + i }))];
    const t = tests(rows).provider_latency_ms!;
    // Medians 114.5 and 414.5; every gpt4 latency is below every claude one, so U = 0.
    expect(t).toMatchObject({ test: 'mann_whitney_u', a_value: 114.5, b_value: 414.5, difference: -300, winner: 'gpt4', additional_needed: 0, effect_size: { name: 'rank_biserial', value: -1 } });
    expect(t.p_value).toBeLessThan(1e-9);
    // The interval is centred on the difference and excludes 0.
    expect((t.lower! + t.upper!) / 2).toBeCloseTo(-300, 9);
    expect(t.upper!).toBeLessThan(0);
    // Failover and cache answers do not enter the latency test.
    const withOthers = tests([...rows, ...many(30, () => row('gpt4', { served_by: 'failover', provider_latency_ms: 9999 }))]).provider_latency_ms!;
    expect(withOthers.a_value).toBe(114.5);
  });

  test('error rate: Fisher for small counts, the z-test for large ones, with Cohen’s h and Newcombe’s interval', () => {
    const failed = (variant: string) => row(variant, { status: 'failed', served_by: null, cost_usd: null });
    const small = tests([...many(3, () => failed('gpt4')), ...many(7, () => row('gpt4')), ...many(10, () => row('claude'))]).error_rate!;
    expect(small).toMatchObject({ test: 'fisher_exact', a_value: 0.3, b_value: 0, difference: 0.3, winner: null });
    // Fisher's exact two-sided p for [[3, 7], [0, 10]]: 0.2105 (R: fisher.test).
    expect(small.p_value).toBeCloseTo(0.2105, 4);
    const large = tests([...many(100, () => failed('gpt4')), ...many(900, () => row('gpt4')), ...many(50, () => failed('claude')), ...many(950, () => row('claude'))]).error_rate!;
    expect(large).toMatchObject({ test: 'two_proportion_z', winner: 'claude', additional_needed: 0 });
    expect(large.difference).toBeCloseTo(0.05, 12);
    expect(large.effect_size!.value).toBeCloseTo(2 * Math.asin(Math.sqrt(0.1)) - 2 * Math.asin(Math.sqrt(0.05)), 12);
    expect(large.lower!).toBeGreaterThan(0);
  });

  test('cost per job over all jobs and per successful job over completed ones, by Welch, in micro-dollars', () => {
    const rows = [
      ...many(20, (i) => row('gpt4', { cost_usd: i % 2 ? 0.03 : 0.01 })),
      ...many(20, () => row('gpt4', { status: 'failed', served_by: null, cost_usd: 0 })),
      ...many(40, (i) => row('claude', { cost_usd: i % 2 ? 0.011 : 0.009 })),
    ];
    const t = tests(rows);
    expect(t.cost_per_job_usd).toMatchObject({ test: 'welch_t', a_value: 0.01, b_value: 0.01, difference: 0, winner: null });
    expect(t.cost_per_successful_job_usd).toMatchObject({ a_value: 0.02, b_value: 0.01, difference: 0.01, winner: 'claude', effect_size: { name: 'cohens_d' } });
  });

  test('rating: higher wins; too few ratings give no p-value and say why', () => {
    const rated = [...many(30, (i) => row('gpt4', { rating: i % 2 ? 3 : 5 })), ...many(30, (i) => row('claude', { rating: i % 2 ? 2 : 4 }))];
    const t = tests(rated).rating!;
    expect(t).toMatchObject({ test: 'welch_t', better: 'higher', a_value: 4, b_value: 3, difference: 1, winner: 'gpt4' });
    expect(t.p_value).toBeLessThan(0.001);
    const few = tests([row('gpt4', { rating: 5 }), row('claude', { rating: 4 }), row('claude', { rating: 2 })]).rating!;
    expect(few).toMatchObject({ p_value: null, winner: null, a_value: 5, b_value: 3, additional_needed: null });
    expect(few.note).toMatch(/at least 2 ratings/);
  });

  test('no detectable difference says how many more observations a decision needs', () => {
    const rows = [...many(40, (i) => row('gpt4', { rating: 1 + (i % 5) })), ...many(40, (i) => row('claude', { rating: 1 + ((i + 1) % 5) }))];
    const t = tests(rows).rating!;
    expect(t.winner).toBeNull();
    expect(t.additional_needed!).toBeGreaterThan(0);
  });
});

describe('winnerOf', () => {
  test.each([
    { difference: -5, better: 'lower', p: 0.01, winner: 'a' },
    { difference: 5, better: 'lower', p: 0.01, winner: 'b' },
    { difference: 5, better: 'higher', p: 0.01, winner: 'a' },
    { difference: 5, better: 'higher', p: 0.05, winner: null },
    { difference: 0, better: 'lower', p: 0.001, winner: null },
    { difference: null, better: 'lower', p: 0.001, winner: null },
    { difference: 5, better: 'lower', p: null, winner: null },
  ] as const)('difference $difference, better $better, p $p: $winner', ({ difference, better, p, winner }) => {
    expect(winnerOf({ difference, better }, p, 'a', 'b')).toBe(winner);
  });
});
