import { describe, expect, it } from 'vitest';
import { csvField } from './reportCsv.ts';
import { CSV_COLUMNS, formatReportTables, reportToCsv } from './reportFormat.ts';
import type { Estimate, ExperimentReport, MetricTest, VariantFigures } from './reportTypes.ts';
import { renderTable, wrap } from './textTable.ts';

const est = (estimate: number | null, lower: number | null, upper: number | null, method = 'bootstrap'): Estimate => ({ estimate, lower, upper, method });

function variant(name: string, o: Partial<VariantFigures> = {}): VariantFigures {
  return {
    variant: name,
    provider: name === 'gpt4' ? 'openai' : 'anthropic',
    model: name === 'gpt4' ? 'gpt-4' : 'claude-3-5-sonnet',
    prompt_version: null,
    configured_share: 0.5,
    jobs: 1200,
    units: 400,
    completed: 1180,
    failed: 15,
    rejected: 5,
    completion_rate: { ...est(0.983333, 0.9752, 0.9888, 'wilson'), count: 1180, of: 1200 },
    error_rate: { ...est(0.0125, 0.0076, 0.0205, 'wilson'), count: 15, of: 1200 },
    degraded_rate: { ...est(0, 0, 0.0032, 'wilson'), count: 0, of: 1180 },
    served_by: { provider: 1150, failover: 10, downgrade: 0, cache: 20, stale_cache: 0, category_cache: 0, degraded: 0, unknown: 0 },
    model_served: 1150,
    provider_latency_ms: { n: 1150, p50: est(452.4, 440, 465), p95: est(1398, 1320, 1480), p99: est(2210, 2000, 2500, 'order_statistic') },
    cost_usd: { total: 14.4, per_job: est(0.012, 0.0118, 0.0122), per_successful_job: est(0.012203, 0.012, 0.0124) },
    tokens: { jobs: 1150, input: 690_000, output: 460_000, cost_usd: 14.1 },
    rating: { n: 300, mean: est(4.1, 3.98, 4.22, 't'), stdev: 0.9 },
    ...o,
  };
}

function test(metric: string, o: Partial<MetricTest> = {}): MetricTest {
  return {
    metric,
    test: 'welch_t',
    a_value: 1,
    b_value: 1,
    difference: 0,
    lower: -0.1,
    upper: 0.1,
    p_value: 0.5,
    effect_size: { name: 'cohens_d', value: 0.01 },
    better: 'lower',
    winner: null,
    additional_needed: 1000,
    ...o,
  };
}

/** A report as the analysis would answer it: two variants, one comparison, one category field. */
const fixture: ExperimentReport = {
  experiment: 'career_model_ab',
  since: '2026-11-02T00:00:00.000Z',
  generated_at: '2026-12-02T08:00:00.000Z',
  confidence: 0.95,
  note: 'Latency and rating use only answers the variant’s own model gave.',
  unassigned_jobs: 3,
  holdout_jobs: 0,
  variants: [variant('gpt4'), variant('claude', { cost_usd: { total: 6, per_job: est(0.005, 0.0049, 0.0051), per_successful_job: est(0.005085, 0.005, 0.0052) } })],
  comparisons: [
    {
      a: 'gpt4',
      b: 'claude',
      tests: [
        test('provider_latency_ms', { test: 'mann_whitney_u', difference: 102.4, lower: 80, upper: 125, p_value: 0.0004, effect_size: { name: 'rank_biserial', value: 0.21 }, winner: 'claude', additional_needed: 0 }),
        test('error_rate', { test: 'two_proportion_z', difference: 0.002, lower: -0.004, upper: 0.008, p_value: 0.61, effect_size: { name: 'cohens_h', value: 0.02 }, additional_needed: 52000 }),
        test('cost_per_job_usd', { difference: 0.007, lower: 0.0068, upper: 0.0072, p_value: 0.00001, winner: 'claude', additional_needed: 0 }),
        test('rating', { difference: null, lower: null, upper: null, p_value: null, effect_size: null, better: 'higher', additional_needed: null, note: 'Needs 30 ratings per variant, has 12 and 9.' }),
      ],
    },
  ],
  sample_ratio: {
    test: 'chi_square',
    counted: 'units',
    observed: { gpt4: 400, claude: 410 },
    expected: { gpt4: 405, claude: 405 },
    statistic: 0.1235,
    df: 1,
    p_value: 0.7253,
    alpha: 0.001,
    mismatch: false,
    note: 'Units are split as configured.',
  },
  verdict: {
    findings: [
      { metric: 'provider latency', winner: 'claude', confidence: 'high', sentence: 'claude is faster (p50 latency) by 102 ms, p < 0.001 (high confidence)' },
      { metric: 'error rate', winner: null, confidence: null, sentence: 'no detectable difference in error rate (p = 0.61)' },
    ],
    text: 'Claude is faster (p50 latency) by 102 ms, p < 0.001 (high confidence); no detectable difference in error rate (p = 0.61).',
  },
  categories: [
    {
      field: 'sector',
      correction: 'holm',
      rows: [
        { value: 'healthcare', jobs: { gpt4: 300, claude: 310 }, tests: [test('provider_latency_ms', { p_value: 0.004, raw_p_value: 0.001, winner: 'claude' })], winners: { provider_latency_ms: 'claude' } },
        { value: 'legal, "tech"', jobs: { gpt4: 40, claude: 38 }, tests: [test('provider_latency_ms', { p_value: 0.8, raw_p_value: 0.4 })], winners: {} },
      ],
    },
  ],
  cost: {
    by_variant: [
      { variant: 'gpt4', usd: 14.4 },
      { variant: 'claude', usd: 6 },
    ],
    by_category: [{ field: 'sector', value: 'healthcare', usd: 7.5 }],
    by_day: Array.from({ length: 9 }, (_, i) => ({ day: `2026-11-${String(22 + i).padStart(2, '0')}`, usd: 2, by_variant: { gpt4: 1.4, claude: 0.6 } })),
    month: { month: '2026-12', spent_usd: 2.4, daily_rate_usd: 1.2, projected_usd: 37.2, days_elapsed: 2, days_in_month: 31 },
    alternative_splits: [
      { shares: { gpt4: 0.5, claude: 0.5 }, monthly_usd: 316.2, saving_vs_current_usd: 0 },
      { shares: { gpt4: 1, claude: 0 }, monthly_usd: 446.4, saving_vs_current_usd: -130.2 },
      { shares: { gpt4: 0, claude: 1 }, monthly_usd: 186, saving_vs_current_usd: 130.2 },
    ],
    cache_saved_usd: 0.3405,
    lanes: {
      by_variant: [
        { variant: 'gpt4', realtime: { jobs: 1080, usd: 13.824, per_job_usd: 0.0128 }, batch: { jobs: 120, usd: 0.576, per_job_usd: 0.0048 }, batch_share: 0.1 },
        { variant: 'claude', realtime: { jobs: 600, usd: 4, per_job_usd: 0.006667 }, batch: { jobs: 600, usd: 2, per_job_usd: 0.003333 }, batch_share: 0.5 },
      ],
      batch_share_spread: 0.4,
      note: "The variants' batch shares differ by 40.0 points (gpt4 10.0%, claude 50.0%): mixed lanes.",
    },
    time_ms: {
      queue: { n: 2360, p50: 12, p95: 140.6, p99: 800 },
      provider: { n: 2300, p50: 420, p95: 1350, p99: 2100 },
      gateway: { n: 2360, p50: 8, p95: 25, p99: 60 },
      total: { n: 2360, p50: 450, p95: 1500, p99: 2900 },
    },
  },
};

describe('formatReportTables', () => {
  const text = formatReportTables(fixture);

  it('opens with the header, then the verdict paragraph before any table', () => {
    expect(text.startsWith('A/B report: career_model_ab\nWindow: jobs created since 2026-11-02T00:00:00.000Z\nGenerated: 2026-12-02T08:00:00.000Z')).toBe(true);
    expect(text).toContain('3 jobs that ended before assignment');
    expect(text.indexOf('Verdict')).toBeLessThan(text.indexOf('Variants'));
    expect(text).toContain('Claude is faster (p50 latency) by 102 ms');
  });

  it('states the sample-ratio check in one paragraph', () => {
    expect(text.replaceAll('\n', ' ')).toContain('OK: units gpt4 400 (expected 405), claude 410 (expected 405); chi-square 0.12, df 1, p = 0.73. Units are split as configured.');
  });

  it('lays out the variants side by side, with intervals', () => {
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('completion rate'))).toMatch(/^completion rate\s+98\.3% \[97\.5%, 98\.9%\]\s+98\.3% \[97\.5%, 98\.9%\]$/);
    expect(lines.find((l) => l.startsWith('error rate  '))).toMatch(/1\.25% \[0\.76%, 2\.05%\]$/);
    expect(lines.find((l) => l.startsWith('cost per job '))).toMatch(/^cost per job\s+\$0\.012 \[\$0\.0118, \$0\.0122\]\s+\$0\.005 \[\$0\.0049, \$0\.0051\]$/);
    expect(lines.find((l) => l.startsWith('provider latency p95'))).toMatch(/^provider latency p95 \(ms\)\s+1,398 \[1,320, 1,480\]\s+1,398 \[1,320, 1,480\]$/);
    expect(lines.find((l) => l.startsWith('rating'))).toMatch(/4\.1 ± 0\.12 \(n 300\)$/);
    expect(lines.find((l) => l.startsWith('other paths'))).toMatch(/failover 10, cache 20$/);
  });

  it('shows each test with difference, interval, p, effect, winner and what a decision needs', () => {
    const lines = text.split('\n');
    expect(text).toContain('gpt4 vs claude (difference = gpt4 − claude)');
    expect(lines.find((l) => l.startsWith('provider_latency_ms'))).toMatch(/mann_whitney_u\s+102 ms \[80 ms, 125 ms\]\s+<0\.001\s+rank_biserial 0\.21\s+claude\s+0$/);
    expect(lines.find((l) => l.startsWith('error_rate'))).toMatch(/0\.2 pp \[−0\.4 pp, 0\.8 pp\]\s+0\.61\s+cohens_h 0\.02\s+—\s+52,000$/);
    expect(text).toContain('rating: Needs 30 ratings per variant, has 12 and 9.');
  });

  it('gives per-category winners with corrected p-values', () => {
    expect(text).toContain('By sector (winner per metric, p-values Holm-corrected)');
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('healthcare'))).toMatch(/^healthcare\s+300\s+310\s+claude \(p = 0\.004\)$/);
    expect(lines.find((l) => l.startsWith('legal'))).toMatch(/none \(p = 0\.8\)$/);
  });

  it('ends with spend, the last 7 days, the month projection, other splits, cache savings and time', () => {
    expect(text).toContain('gpt4     $14.40  70.6%');
    expect(text).not.toContain('2026-11-23');
    expect(text).toMatch(/^2026-11-24\s+\$2\.00\s+\$1\.40\s+\$0\.60$/m);
    expect(text).toContain('Month 2026-12: $2.40 spent over 2 of 31 days with data ($1.20 a day); projected month-end $37.20.');
    expect(text).toContain('gpt4 50% / claude 50% (configured)');
    expect(text).toMatch(/gpt4 0% \/ claude 100%\s+\$186\.00\s+\$130\.20/);
    expect(text).toContain('saved about $0.3405');
    expect(text).toMatch(/queue\s+2,360\s+12\s+141\s+800/);
  });

  it('compares each lane’s cost per job side by side, with the lane-mix note here and under the cost tests', () => {
    const lines = text.split('\n');
    expect(lines.find((l) => l.startsWith('batch share'))).toMatch(/^batch share\s+10\.0%\s+50\.0%$/);
    expect(lines.find((l) => l.startsWith('jobs realtime / batch'))).toMatch(/1,080 \/ 120\s+600 \/ 600$/);
    expect(lines.find((l) => l.startsWith('cost per job, realtime'))).toMatch(/\$0\.0128\s+\$0\.006667$/);
    expect(lines.find((l) => l.startsWith('cost per job, batch'))).toMatch(/\$0\.0048\s+\$0\.003333$/);
    expect(text).toContain('(gpt4 10.0%, claude 50.0%): mixed lanes.');
    expect(text.indexOf('these cost tests mix batch-price and realtime-price jobs')).toBeLessThan(text.indexOf('Cost\n===='));

    const realtimeOnly = { ...fixture.cost.lanes, batch_share_spread: 0, note: null };
    realtimeOnly.by_variant = realtimeOnly.by_variant.map((v) => ({ ...v, realtime: { ...v.realtime, jobs: 1200 }, batch: { jobs: 0, usd: 0, per_job_usd: null }, batch_share: 0 }));
    const plain = formatReportTables({ ...fixture, cost: { ...fixture.cost, lanes: realtimeOnly } });
    expect(plain).toContain('By lane: every job was answered in the realtime lane.');
    expect(plain).not.toContain('batch share');
    expect(plain).not.toContain('these cost tests mix');
  });
});

describe('reportToCsv', () => {
  const csv = reportToCsv(fixture);
  const lines = csv.split('\r\n');

  it('has the documented header and RFC 4180 line ends', () => {
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replaceAll('\r\n', '')).not.toContain('\n');
  });

  it('holds variant figures with their intervals', () => {
    expect(lines).toContain('variant,gpt4,,,error_rate,0.0125,0.0076,0.0205,,wilson');
    expect(lines).toContain('variant,claude,,,cost_per_job_usd,0.005,0.0049,0.0051,,bootstrap');
    expect(lines).toContain('variant,gpt4,,,served_by_cache,20,,,,');
  });

  it('holds comparisons, the sample ratio, the verdict, categories and cost', () => {
    expect(lines).toContain('comparison,gpt4 vs claude,,,provider_latency_ms,102.4,80,125,0.0004,test=mann_whitney_u; rank_biserial=0.21; winner=claude; more_needed=0');
    expect(lines).toContain('sample_ratio,claude,,,observed_units,410,,,,');
    expect(lines).toContain('sample_ratio,,,,chi_square,0.1235,,,0.7253,ok; df=1; Units are split as configured.');
    expect(lines).toContain('verdict,,,,error rate,,,,,no detectable difference in error rate (p = 0.61)');
    expect(lines).toContain('category,claude,sector,healthcare,jobs,310,,,,');
    expect(lines).toContain('category,,sector,"legal, ""tech""",provider_latency_ms,0,-0.1,0.1,0.8,test=welch_t; raw_p=0.4; correction=holm; cohens_d=0.01; winner=; more_needed=1000');
    expect(lines).toContain('cost,,sector,healthcare,spend_usd,7.5,,,,');
    expect(lines).toContain('cost,claude,by_day,2026-11-30,spend_usd,0.6,,,,');
    expect(lines).toContain('cost,,month,2026-12,projected_usd,37.2,,,,');
    expect(lines).toContain('cost,,split,gpt4=0.5;claude=0.5,monthly_usd,316.2,,,,configured');
    expect(lines).toContain('cost,,cache_saved,,usd,0.3405,,,,');
    expect(lines).toContain('cost,gpt4,by_lane,batch,per_job_usd,0.0048,,,,');
    expect(lines).toContain('cost,claude,by_lane,realtime,jobs,600,,,,');
    expect(lines).toContain('cost,claude,by_lane,,batch_share,0.5,,,,');
    expect(lines).toContain(`cost,,lane_mix,,batch_share_spread,0.4,,,,"The variants' batch shares differ by 40.0 points (gpt4 10.0%, claude 50.0%): mixed lanes."`);
    expect(lines).toContain('cost,,time_ms,queue,p95,140.6,,,,');
  });

  it('gives every line the same number of fields', () => {
    // Split on commas outside quotes.
    const fields = (line: string) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.length - (line.endsWith(',') ? 0 : 1);
    for (const line of lines.slice(0, -1)) expect(fields(line), line).toBe(CSV_COLUMNS.length);
  });
});

describe('csvField', () => {
  it.each([
    [null, ''],
    [0.5, '0.5'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ])('%j → %j', (value, expected) => expect(csvField(value)).toBe(expected));
});

describe('renderTable and wrap', () => {
  it('pads columns, left-aligning the first', () => {
    expect(renderTable(['name', 'n'], [['a', '10'], ['bbb', '2']])).toBe('name   n\n----  --\na     10\nbbb    2');
  });

  it('wraps on spaces', () => {
    expect(wrap('one two three four', 9)).toBe('one two\nthree\nfour');
  });
});
