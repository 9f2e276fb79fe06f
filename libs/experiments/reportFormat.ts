/**
 * The experiment report for people: fixed-width text tables for a terminal (`npm run report`).
 * Pure formatting of an ExperimentReport; every figure was computed by the analysis. The CSV form
 * lives in reportCsv.ts and is re-exported here so callers need one import.
 */
import { formatValue, type MetricUnit } from '../stats/index.ts';
import type { CategoryBreakdown, Comparison, CostAnalysis, Estimate, ExperimentReport, LaneCost, MetricTest, SampleRatioCheck, VariantFigures } from './reportTypes.ts';
import { heading, renderTable, wrap } from './textTable.ts';

export { reportToCsv, CSV_COLUMNS } from './reportCsv.ts';

/** Days of spend the day table shows, newest last. */
export const DAYS_SHOWN = 7;

const NONE = '—';

/** The whole report as text tables: header, verdict, sample ratio, variants, comparisons, categories, cost. */
export function formatReportTables(report: ExperimentReport): string {
  const names = report.variants.map((v) => v.variant);
  const sections = [
    header(report),
    `${heading('Verdict')}\n${wrap(report.verdict.text)}`,
    `${heading('Sample ratio')}\n${sampleRatioLine(report.sample_ratio)}`,
    `${heading('Variants')}\n${variantTable(report.variants)}\n\n${wrap(report.note)}`,
    ...report.comparisons.map((c) => comparisonSection(c, report.cost.lanes.note !== null)),
    ...report.categories.map((c) => categorySection(c, names)),
    costSection(report.cost, names),
  ];
  return `${sections.join('\n\n')}\n`;
}

function header(report: ExperimentReport): string {
  const lines = [
    `A/B report: ${report.experiment}`,
    `Window: jobs created since ${report.since}`,
    `Generated: ${report.generated_at} (intervals at ${Math.round(report.confidence * 100)}%)`,
  ];
  if (report.unassigned_jobs > 0 || report.holdout_jobs > 0) {
    lines.push(`Outside the comparison: ${report.holdout_jobs} holdout jobs, ${report.unassigned_jobs} jobs that ended before assignment`);
  }
  return lines.join('\n');
}

function sampleRatioLine(srm: SampleRatioCheck): string {
  const arms = Object.keys(srm.observed);
  const counts = arms.map((arm) => `${arm} ${srm.observed[arm]} (expected ${round(srm.expected[arm] ?? 0, 1)})`).join(', ');
  const test = srm.p_value === null ? 'not tested' : `chi-square ${round(srm.statistic ?? 0, 2)}, df ${srm.df}, ${pText(srm.p_value)}`;
  return wrap(`${srm.mismatch ? 'MISMATCH' : 'OK'}: units ${counts}; ${test}. ${srm.note}`);
}

function variantTable(variants: readonly VariantFigures[]): string {
  const row = (label: string, cell: (v: VariantFigures) => string) => [label, ...variants.map(cell)];
  const rows = [
    row('provider / model', (v) => `${v.provider ?? NONE} / ${v.model ?? NONE}`),
    ...(variants.some((v) => v.prompt_version) ? [row('prompt version', (v) => v.prompt_version ?? NONE)] : []),
    row('configured share', (v) => percent(v.configured_share)),
    row('jobs', (v) => count(v.jobs)),
    row('units (users)', (v) => count(v.units)),
    row('completed / failed / rejected', (v) => `${count(v.completed)} / ${count(v.failed)} / ${count(v.rejected)}`),
    row('completion rate', (v) => estimate(v.completion_rate, percent)),
    row('error rate', (v) => estimate(v.error_rate, percent)),
    row('degraded rate', (v) => estimate(v.degraded_rate, percent)),
    row('model-served', (v) => count(v.model_served)),
    row('other paths', (v) => otherPaths(v.served_by)),
    row('provider latency p50 (ms)', (v) => estimate(v.provider_latency_ms.p50, ms)),
    row('provider latency p95 (ms)', (v) => estimate(v.provider_latency_ms.p95, ms)),
    row('provider latency p99 (ms)', (v) => estimate(v.provider_latency_ms.p99, ms)),
    row('cost total', (v) => usd(v.cost_usd.total)),
    row('cost per job', (v) => estimate(v.cost_usd.per_job, usd)),
    row('cost per successful job', (v) => estimate(v.cost_usd.per_successful_job, usd)),
    row('tokens in / out (model-served)', (v) => `${count(v.tokens.input)} / ${count(v.tokens.output)}`),
    row('rating (1-5)', (v) => rating(v.rating)),
  ];
  return renderTable(['variant', ...variants.map((v) => v.variant)], rows);
}

/** `laneMix`: the variants' batch shares differ enough that the all-jobs cost tests mix price lanes. */
function comparisonSection(comparison: Comparison, laneMix: boolean): string {
  const rows = comparison.tests.map((t) => [
    t.metric,
    t.test,
    difference(t),
    t.p_value === null ? NONE : pCell(t.p_value),
    t.effect_size && t.effect_size.value !== null ? `${t.effect_size.name} ${round(t.effect_size.value, 2)}` : NONE,
    t.winner ?? NONE,
    t.additional_needed === null ? NONE : count(t.additional_needed),
  ]);
  const notes = comparison.tests.filter((t) => t.note).map((t) => wrap(`${t.metric}: ${t.note}`));
  if (laneMix && comparison.tests.some((t) => t.metric.startsWith('cost_'))) {
    notes.push(wrap("Cost: the variants' batch shares differ, so these cost tests mix batch-price and realtime-price jobs; the Cost section compares each lane's cost per job."));
  }
  const table = renderTable(['metric', 'test', 'difference [CI]', 'p', 'effect', 'winner', 'more needed'], rows, ['left', 'left']);
  return [heading(`${comparison.a} vs ${comparison.b} (difference = ${comparison.a} − ${comparison.b})`), table, ...notes].join('\n');
}

function categorySection(breakdown: CategoryBreakdown, names: readonly string[]): string {
  const metrics = [...new Set(breakdown.rows.flatMap((r) => r.tests.map((t) => t.metric)))];
  const rows = breakdown.rows.map((r) => [
    r.value,
    ...names.map((n) => count(r.jobs[n] ?? 0)),
    ...metrics.map((m) => {
      const test = r.tests.find((t) => t.metric === m);
      if (!test || test.p_value === null) return NONE;
      return `${r.winners[m] ?? 'none'} (${pText(test.p_value)})`;
    }),
  ]);
  const correction = breakdown.correction === 'holm' ? 'Holm' : 'Benjamini-Hochberg';
  const table = renderTable([breakdown.field, ...names.map((n) => `jobs ${n}`), ...metrics.map(shortMetric)], rows);
  return `${heading(`By ${breakdown.field.replace('_', ' ')} (winner per metric, p-values ${correction}-corrected)`)}\n${table}`;
}

function costSection(cost: CostAnalysis, names: readonly string[]): string {
  const spent = cost.by_variant.reduce((s, v) => s + v.usd, 0);
  const byVariant = renderTable(
    ['variant', 'spend', 'share'],
    cost.by_variant.map((v) => [v.variant, usd(v.usd), spent > 0 ? percent(v.usd / spent) : NONE]),
  );
  const lanes = laneTable(cost.lanes);
  const days = cost.by_day.slice(-DAYS_SHOWN);
  const byDay = renderTable(
    ['day (UTC)', 'total', ...names],
    days.map((d) => [d.day, usd(d.usd), ...names.map((n) => usd(d.by_variant[n] ?? 0))]),
  );
  const m = cost.month;
  const month = wrap(
    `Month ${m.month}: ${usd(m.spent_usd)} spent over ${m.days_elapsed} of ${m.days_in_month} days with data (${usd(m.daily_rate_usd)} a day); projected month-end ${usd(m.projected_usd)}.`,
  );
  const splits = renderTable(
    ['split', 'a month at current volume', 'saving vs configured'],
    cost.alternative_splits.map((s, i) => [`${splitLabel(s.shares)}${i === 0 ? ' (configured)' : ''}`, usd(s.monthly_usd), usd(s.saving_vs_current_usd)]),
  );
  const parts = ['queue', 'provider', 'gateway', 'total'] as const;
  const times = renderTable(
    ['time of completed jobs (ms)', 'n', 'p50', 'p95', 'p99'],
    parts.map((p) => [p, count(cost.time_ms[p].n), ms(cost.time_ms[p].p50), ms(cost.time_ms[p].p95), ms(cost.time_ms[p].p99)]),
  );
  return [
    heading('Cost'),
    byVariant,
    lanes,
    `Spend by day, last ${DAYS_SHOWN} days with jobs:\n${byDay}`,
    month,
    `What other splits would cost:\n${splits}`,
    `Cache-served answers saved about ${usd(cost.cache_saved_usd)} (at each variant's mean model-served cost).`,
    times,
  ].join('\n\n');
}

/** Each variant's jobs by lane, read across a row for the like-for-like cost; one line when no job rode the batch lane. */
function laneTable(lanes: CostAnalysis['lanes']): string {
  const variants = lanes.by_variant;
  if (!variants.some((v) => v.batch.jobs > 0)) return 'By lane: every job was answered in the realtime lane.';
  const row = (label: string, cell: (v: (typeof variants)[number]) => string) => [label, ...variants.map(cell)];
  const perJob = (c: LaneCost) => (c.per_job_usd === null ? NONE : usd(c.per_job_usd));
  const table = renderTable(
    ['by lane (holdout left out)', ...variants.map((v) => v.variant)],
    [
      row('batch share', (v) => (v.batch_share === null ? NONE : percent(v.batch_share))),
      row('jobs realtime / batch', (v) => `${count(v.realtime.jobs)} / ${count(v.batch.jobs)}`),
      row('spend realtime / batch', (v) => `${usd(v.realtime.usd)} / ${usd(v.batch.usd)}`),
      row('cost per job, realtime', (v) => perJob(v.realtime)),
      row('cost per job, batch', (v) => perJob(v.batch)),
    ],
  );
  return lanes.note === null ? table : `${table}\n${wrap(lanes.note)}`;
}

function splitLabel(shares: Record<string, number>): string {
  return Object.entries(shares)
    .map(([name, share]) => `${name} ${round(share * 100, 1)}%`)
    .join(' / ');
}

function otherPaths(servedBy: VariantFigures['served_by']): string {
  const others = Object.entries(servedBy).filter(([path, n]) => path !== 'provider' && n > 0);
  return others.length === 0 ? NONE : others.map(([path, n]) => `${path} ${n}`).join(', ');
}

function rating(r: VariantFigures['rating']): string {
  const { estimate: mean, lower, upper } = r.mean;
  if (mean === null) return `${NONE} (n 0)`;
  const half = lower !== null && upper !== null ? ` ± ${round((upper - lower) / 2, 2)}` : '';
  return `${round(mean, 2)}${half} (n ${count(r.n)})`;
}

function difference(t: MetricTest): string {
  if (t.difference === null) return NONE;
  const unit = metricUnit(t.metric);
  const show = (x: number) => (unit ? formatValue(x, unit) : String(round(x, 3)));
  const ci = t.lower !== null && t.upper !== null ? ` [${show(t.lower)}, ${show(t.upper)}]` : '';
  return `${show(t.difference)}${ci}`;
}

/** The unit a metric's differences read in (see MetricTest.metric); null for an unknown metric. */
function metricUnit(metric: string): MetricUnit | null {
  if (metric.endsWith('_ms')) return 'ms';
  if (metric.endsWith('_rate')) return 'rate';
  if (metric.endsWith('_usd')) return 'usd';
  if (metric === 'rating') return 'points';
  return null;
}

function shortMetric(metric: string): string {
  const short: Record<string, string> = {
    provider_latency_ms: 'latency',
    error_rate: 'errors',
    cost_per_job_usd: 'cost/job',
    cost_per_successful_job_usd: 'cost/success',
  };
  return short[metric] ?? metric;
}

function estimate(e: Estimate, show: (x: number) => string): string {
  if (e.estimate === null) return NONE;
  return e.lower === null || e.upper === null ? show(e.estimate) : `${show(e.estimate)} [${show(e.lower)}, ${show(e.upper)}]`;
}

function pText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${pCell(p)}`;
}

function pCell(p: number): string {
  return p < 0.001 ? '<0.001' : String(Number(p.toPrecision(2)));
}

/** A rate as a percentage: two decimals below 10% (error rates live there), one above. */
function percent(rate: number): string {
  const digits = Math.abs(rate) < 0.1 ? 2 : 1;
  return `${(rate * 100).toFixed(digits)}%`;
}

function ms(value: number | null): string {
  return value === null ? NONE : count(Math.round(value));
}

/** Dollars: cents from $1 up; below, up to micro-dollars without trailing zeros (LLM jobs cost fractions of a cent). */
function usd(value: number): string {
  const sign = value < 0 ? '-' : '';
  const v = Math.abs(value);
  if (v >= 1) return `${sign}$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `${sign}$${v.toFixed(6).replace(/0{1,4}$/, '')}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
