/**
 * The experiment report as one long CSV (RFC 4180: CRLF line ends, fields with a comma, quote or
 * line break quoted, quotes doubled), for spreadsheets. One figure per line; the columns are
 * CSV_COLUMNS and every section fills the ones that apply:
 *
 * - `variant`: variant = name, metric = a VariantFigures figure (`jobs`, `completion_rate`,
 *   `provider_latency_p95_ms`, `cost_per_job_usd`, `served_by_cache`, …), estimate/lower/upper,
 *   note = interval method.
 * - `comparison`: variant = "a vs b", metric, estimate = a − b, lower/upper, p_value, note = test,
 *   effect size, winner, more jobs needed.
 * - `sample_ratio`: variant = arm, metric `observed_units` / `expected_units`; one `chi_square`
 *   line with the statistic, p_value and the note.
 * - `verdict`: metric, variant = winner (empty when none), note = the sentence.
 * - `category`: field, value, variant + metric `jobs`; and per test metric, p_value corrected
 *   (note: raw p, correction, winner).
 * - `cost`: field `by_variant`; `by_lane` (variant, value = `realtime` or `batch`, metrics `jobs`,
 *   `spend_usd`, `per_job_usd`; and per variant `batch_share` with no value); `lane_mix` (metric
 *   `batch_share_spread`, note = the report's sentence when the shares differ by more than 10
 *   points); a category field (`sector`, …) with its value; `by_day` (value = the
 *   day, variant empty for the day's total); `month`; `split` (value = the shares, note `configured`
 *   on the configured one); `cache_saved`; `time_ms` (value = queue, provider, gateway or total).
 */
import type { Estimate, ExperimentReport, MetricTest } from './reportTypes.ts';

/** The CSV's columns, in order. */
export const CSV_COLUMNS = ['section', 'variant', 'field', 'value', 'metric', 'estimate', 'lower', 'upper', 'p_value', 'note'] as const;

type CsvLine = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>>;

/** The report as CSV text with a header line (see the module comment for what each section holds). */
export function reportToCsv(report: ExperimentReport): string {
  const lines: CsvLine[] = [...variantLines(report), ...comparisonLines(report), ...sampleRatioLines(report), ...verdictLines(report), ...categoryLines(report), ...costLines(report)];
  return [CSV_COLUMNS.join(','), ...lines.map((l) => CSV_COLUMNS.map((c) => csvField(l[c])).join(','))].join('\r\n') + '\r\n';
}

/** One field, quoted when RFC 4180 requires it; null and undefined are empty. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function variantLines(report: ExperimentReport): CsvLine[] {
  return report.variants.flatMap((v) => {
    const line = (metric: string, estimate: number | string | null): CsvLine => ({ section: 'variant', variant: v.variant, metric, estimate });
    const est = (metric: string, e: Estimate): CsvLine => ({ section: 'variant', variant: v.variant, metric, estimate: e.estimate, lower: e.lower, upper: e.upper, note: e.method });
    return [
      line('provider', v.provider),
      line('model', v.model),
      line('prompt_version', v.prompt_version),
      line('configured_share', v.configured_share),
      line('jobs', v.jobs),
      line('units', v.units),
      line('completed', v.completed),
      line('failed', v.failed),
      line('rejected', v.rejected),
      est('completion_rate', v.completion_rate),
      est('error_rate', v.error_rate),
      est('degraded_rate', v.degraded_rate),
      ...Object.entries(v.served_by).map(([path, n]) => line(`served_by_${path}`, n)),
      line('model_served', v.model_served),
      line('provider_latency_n', v.provider_latency_ms.n),
      est('provider_latency_p50_ms', v.provider_latency_ms.p50),
      est('provider_latency_p95_ms', v.provider_latency_ms.p95),
      est('provider_latency_p99_ms', v.provider_latency_ms.p99),
      line('cost_total_usd', v.cost_usd.total),
      est('cost_per_job_usd', v.cost_usd.per_job),
      est('cost_per_successful_job_usd', v.cost_usd.per_successful_job),
      line('tokens_jobs', v.tokens.jobs),
      line('tokens_input', v.tokens.input),
      line('tokens_output', v.tokens.output),
      line('tokens_cost_usd', v.tokens.cost_usd),
      line('rating_n', v.rating.n),
      est('rating_mean', v.rating.mean),
      line('rating_stdev', v.rating.stdev),
    ];
  });
}

function testNote(t: MetricTest, extra: string[] = []): string {
  const parts = [`test=${t.test}`, ...extra];
  if (t.effect_size) parts.push(`${t.effect_size.name}=${t.effect_size.value ?? ''}`);
  parts.push(`winner=${t.winner ?? ''}`, `more_needed=${t.additional_needed ?? ''}`);
  if (t.note) parts.push(t.note);
  return parts.join('; ');
}

function comparisonLines(report: ExperimentReport): CsvLine[] {
  return report.comparisons.flatMap((c) =>
    c.tests.map((t) => ({ section: 'comparison', variant: `${c.a} vs ${c.b}`, metric: t.metric, estimate: t.difference, lower: t.lower, upper: t.upper, p_value: t.p_value, note: testNote(t) })),
  );
}

function sampleRatioLines(report: ExperimentReport): CsvLine[] {
  const srm = report.sample_ratio;
  return [
    ...Object.entries(srm.observed).map(([arm, n]) => ({ section: 'sample_ratio', variant: arm, metric: 'observed_units', estimate: n })),
    ...Object.entries(srm.expected).map(([arm, n]) => ({ section: 'sample_ratio', variant: arm, metric: 'expected_units', estimate: n })),
    { section: 'sample_ratio', metric: 'chi_square', estimate: srm.statistic, p_value: srm.p_value, note: `${srm.mismatch ? 'mismatch' : 'ok'}; df=${srm.df ?? ''}; ${srm.note}` },
  ];
}

function verdictLines(report: ExperimentReport): CsvLine[] {
  return report.verdict.findings.map((f) => ({ section: 'verdict', variant: f.winner, metric: f.metric, note: f.sentence }));
}

function categoryLines(report: ExperimentReport): CsvLine[] {
  return report.categories.flatMap((b) =>
    b.rows.flatMap((r) => [
      ...Object.entries(r.jobs).map(([variant, n]) => ({ section: 'category', variant, field: b.field, value: r.value, metric: 'jobs', estimate: n })),
      ...r.tests.map((t) => ({
        section: 'category',
        field: b.field,
        value: r.value,
        metric: t.metric,
        estimate: t.difference,
        lower: t.lower,
        upper: t.upper,
        p_value: t.p_value,
        note: testNote({ ...t, winner: r.winners[t.metric] ?? null }, [`raw_p=${t.raw_p_value ?? ''}`, `correction=${b.correction}`]),
      })),
    ]),
  );
}

function costLines(report: ExperimentReport): CsvLine[] {
  const cost = report.cost;
  const line = (field: string, metric: string, estimate: number | null, more: CsvLine = {}): CsvLine => ({ section: 'cost', field, metric, estimate, ...more });
  return [
    ...cost.by_variant.map((v) => line('by_variant', 'spend_usd', v.usd, { variant: v.variant })),
    ...cost.lanes.by_variant.flatMap((v) => [
      ...(['realtime', 'batch'] as const).flatMap((lane) => {
        const more = { variant: v.variant, value: lane };
        return [line('by_lane', 'jobs', v[lane].jobs, more), line('by_lane', 'spend_usd', v[lane].usd, more), line('by_lane', 'per_job_usd', v[lane].per_job_usd, more)];
      }),
      line('by_lane', 'batch_share', v.batch_share, { variant: v.variant }),
    ]),
    line('lane_mix', 'batch_share_spread', cost.lanes.batch_share_spread, { note: cost.lanes.note }),
    ...cost.by_category.map((c) => line(c.field, 'spend_usd', c.usd, { value: c.value })),
    ...cost.by_day.flatMap((d) => [
      line('by_day', 'spend_usd', d.usd, { value: d.day }),
      ...Object.entries(d.by_variant).map(([variant, usd]) => line('by_day', 'spend_usd', usd, { value: d.day, variant })),
    ]),
    ...(['spent_usd', 'daily_rate_usd', 'projected_usd', 'days_elapsed', 'days_in_month'] as const).map((m) => line('month', m, cost.month[m], { value: cost.month.month })),
    ...cost.alternative_splits.flatMap((s, i) => {
      const value = Object.entries(s.shares)
        .map(([n, share]) => `${n}=${share}`)
        .join(';');
      const note = i === 0 ? 'configured' : '';
      return [line('split', 'monthly_usd', s.monthly_usd, { value, note }), line('split', 'saving_vs_current_usd', s.saving_vs_current_usd, { value, note })];
    }),
    line('cache_saved', 'usd', cost.cache_saved_usd),
    ...(['queue', 'provider', 'gateway', 'total'] as const).flatMap((part) => {
      const t = cost.time_ms[part];
      return [line('time_ms', 'n', t.n, { value: part }), ...(['p50', 'p95', 'p99'] as const).map((p) => ({ section: 'cost', field: 'time_ms', value: part, metric: p, estimate: t[p] }))];
    }),
  ];
}
