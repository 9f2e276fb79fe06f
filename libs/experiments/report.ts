/**
 * The A/B analysis behind GET /v1/experiments/:id/report: pure arithmetic over the rows the store
 * answers (JobStore.experimentRows), no I/O.
 *
 * Which model is better is judged only on answers that model itself gave (`served_by` =
 * `provider`, not degraded): a failover answer came from the other model, a downgrade from a
 * cheaper one, a cache hit had no model latency, and a degraded fallback is canned text. Counting
 * them would blur the comparison; they still count in the volume, outcome and cost figures.
 */
import { errorFunction, mean, quantile, sampleStandardDeviation, sampleVariance } from 'simple-statistics';
import { GatewayError } from '../errors/index.ts';
import type { ExperimentRow, ServedBy } from '../store/types.ts';

/** Days the report looks back when no `since` is given. */
export const DEFAULT_REPORT_WINDOW_DAYS = 30;
/** Ratings each variant needs before a p-value is computed (the normal approximation holds). */
export const MIN_RATINGS_FOR_TEST = 30;
/** A difference is significant when its p-value is below this. */
export const SIGNIFICANCE_LEVEL = 0.05;

const DAY_MS = 86_400_000;

/** The paths that can answer a job, counted per variant; `unknown` for records written before `served_by` existed. */
const SERVED_BY_KEYS = ['provider', 'failover', 'downgrade', 'cache', 'stale_cache', 'category_cache', 'degraded'] as const satisfies readonly ServedBy[];

/** Explains which jobs the latency and rating statistics use. */
export const MODEL_ONLY_NOTE =
  "Latency and rating statistics use only answers the variant's own model gave (served_by = provider). Failover, downgrade, cache and degraded answers are left out because they would blur which model is better; they still count in jobs, outcomes and cost.";

/** One variant's figures. */
export interface VariantReport {
  variant: string;
  jobs: number;
  completed: number;
  failed: number;
  rejected: number;
  /** completed / jobs, or null without jobs. */
  completion_rate: number | null;
  /** Completed jobs by the path that answered them. */
  served_by: Record<(typeof SERVED_BY_KEYS)[number] | 'unknown', number>;
  /** US dollars, rounded to the micro-dollar. `per_completed_job` is null without completed jobs. */
  cost_usd: { total: number; per_completed_job: number | null };
  tokens: { input: number; output: number };
  /** Milliseconds, over answers the variant's own model gave; null without any. */
  provider_latency_ms: { p50: number | null; p95: number | null };
  /** Ratings of answers the variant's own model gave; mean null when n = 0, stdev (sample) null when n < 2. */
  rating: { n: number; mean: number | null; stdev: number | null };
}

/** The rating comparison of the first two variants. */
export interface RatingComparison {
  metric: 'rating';
  /** The first variant's name (null when the experiment has none). */
  a: string | null;
  /** The second variant's name (null when the experiment has fewer than two). */
  b: string | null;
  /** Mean rating of a minus mean rating of b; null unless both have ratings. */
  difference: number | null;
  /** Two-sided p-value of Welch's t-test (normal approximation); null when not computed, see note. */
  p_value: number | null;
  significant: boolean;
  note: string;
}

/** The whole report. */
export interface ExperimentReport {
  experiment: string;
  /** ISO-8601 start of the window: jobs created at or after it are counted. */
  since: string;
  generated_at: string;
  note: string;
  /** Jobs of the experiment that ended before a variant was assigned (counted in no variant). */
  unassigned_jobs: number;
  variants: VariantReport[];
  comparison: RatingComparison;
}

/** Options for analyseExperiment. */
export interface AnalyseOptions {
  /** The window's start, echoed in the report. @defaultValue `now` minus 30 days */
  since?: string;
  /**
   * Variant names in the experiment's configured order: each is reported (with zeros when it has
   * no jobs), and the first two are compared. Variants seen only in rows follow, by name.
   * @defaultValue the variants seen in rows, by name
   */
  variants?: readonly string[];
}

/**
 * The `since` of a report request: an ISO-8601 date or date-time, or `now` minus 30 days when
 * absent; answered as an ISO-8601 UTC timestamp (the form stored `created_at` values compare with).
 * Throws GatewayError `invalid_query` (400) for anything else.
 */
export function reportSince(value: unknown, now: Date): string {
  if (value === undefined) return new Date(now.getTime() - DEFAULT_REPORT_WINDOW_DAYS * DAY_MS).toISOString();
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const ms = typeof value === 'string' && iso.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new GatewayError('invalid_query', '`since` must be one ISO-8601 date or date-time with a time zone, e.g. 2026-01-31 or 2026-01-31T00:00:00Z.', {
      status: 400,
      details: [{ path: 'since', message: 'must be an ISO-8601 date or date-time' }],
    });
  }
  return new Date(ms).toISOString();
}

/** True for a job the variant's own model answered: the only ones that say which model is better. */
export function servedByOwnModel(row: ExperimentRow): boolean {
  return row.status === 'completed' && row.served_by === 'provider' && !row.degraded;
}

/**
 * Welch's t statistic for two samples and its two-sided p-value from the standard normal
 * distribution (fine once both samples have 30 or more values). Null when a sample has fewer than
 * two values or neither varies (the statistic is undefined).
 */
export function welchTest(a: readonly number[], b: readonly number[]): { t: number; p: number } | null {
  if (a.length < 2 || b.length < 2) return null;
  const se = Math.sqrt(sampleVariance(a as number[]) / a.length + sampleVariance(b as number[]) / b.length);
  if (!(se > 0)) return null;
  const t = (mean(a as number[]) - mean(b as number[])) / se;
  // Two-sided: P(|Z| >= |t|) = 1 - erf(|t| / sqrt 2).
  const p = Math.min(1, Math.max(0, 1 - errorFunction(Math.abs(t) / Math.SQRT2)));
  return { t, p };
}

/** The report of experiment `experimentId` from its rows, as seen at `now`. */
export function analyseExperiment(experimentId: string, rows: readonly ExperimentRow[], now: Date, options: AnalyseOptions = {}): ExperimentReport {
  const byVariant = new Map<string, ExperimentRow[]>();
  for (const name of options.variants ?? []) byVariant.set(name, []);
  const seen = [...new Set(rows.map((r) => r.variant))].filter((v) => v !== '' && !byVariant.has(v)).sort();
  for (const name of seen) byVariant.set(name, []);
  let unassigned = 0;
  for (const row of rows) {
    if (row.variant === '') unassigned++;
    else byVariant.get(row.variant)?.push(row);
  }

  const ratings = new Map<string, number[]>();
  const variants = [...byVariant].map(([name, variantRows]) => {
    const own = variantRows.filter(servedByOwnModel);
    const rated = own.flatMap((r) => (r.rating === null ? [] : [r.rating]));
    ratings.set(name, rated);
    return variantReport(name, variantRows, own, rated);
  });

  return {
    experiment: experimentId,
    since: options.since ?? new Date(now.getTime() - DEFAULT_REPORT_WINDOW_DAYS * DAY_MS).toISOString(),
    generated_at: now.toISOString(),
    note: MODEL_ONLY_NOTE,
    unassigned_jobs: unassigned,
    variants,
    comparison: compareRatings(variants[0], variants[1], ratings),
  };
}

function variantReport(name: string, rows: readonly ExperimentRow[], own: readonly ExperimentRow[], rated: readonly number[]): VariantReport {
  const count = (status: ExperimentRow['status']) => rows.filter((r) => r.status === status).length;
  const completed = count('completed');
  const servedBy = Object.fromEntries([...SERVED_BY_KEYS, 'unknown'].map((k) => [k, 0])) as VariantReport['served_by'];
  for (const row of rows) {
    if (row.status !== 'completed') continue;
    const key = row.served_by && (SERVED_BY_KEYS as readonly string[]).includes(row.served_by) ? row.served_by : 'unknown';
    servedBy[key]++;
  }
  const total = roundUsd(rows.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0));
  const latencies = own.flatMap((r) => (r.provider_latency_ms === null ? [] : [r.provider_latency_ms]));
  return {
    variant: name,
    jobs: rows.length,
    completed,
    failed: count('failed'),
    rejected: count('rejected'),
    completion_rate: rows.length > 0 ? completed / rows.length : null,
    served_by: servedBy,
    cost_usd: { total, per_completed_job: completed > 0 ? roundUsd(total / completed) : null },
    tokens: {
      input: rows.reduce((sum, r) => sum + (r.input_tokens ?? 0), 0),
      output: rows.reduce((sum, r) => sum + (r.output_tokens ?? 0), 0),
    },
    provider_latency_ms: {
      p50: latencies.length > 0 ? quantile(latencies, 0.5) : null,
      p95: latencies.length > 0 ? quantile(latencies, 0.95) : null,
    },
    rating: {
      n: rated.length,
      mean: rated.length > 0 ? mean(rated as number[]) : null,
      stdev: rated.length > 1 ? sampleStandardDeviation(rated as number[]) : null,
    },
  };
}

function compareRatings(a: VariantReport | undefined, b: VariantReport | undefined, ratings: Map<string, number[]>): RatingComparison {
  const base = { metric: 'rating' as const, a: a?.variant ?? null, b: b?.variant ?? null, p_value: null, significant: false };
  if (!a || !b) return { ...base, difference: null, note: 'The experiment needs two variants to compare.' };
  const difference = a.rating.mean !== null && b.rating.mean !== null ? a.rating.mean - b.rating.mean : null;
  if (a.rating.n < MIN_RATINGS_FOR_TEST || b.rating.n < MIN_RATINGS_FOR_TEST) {
    return {
      ...base,
      difference,
      note: `No p-value yet: it needs at least ${MIN_RATINGS_FOR_TEST} ratings of answers from each variant's own model (${a.variant}: ${a.rating.n}, ${b.variant}: ${b.rating.n}).`,
    };
  }
  const test = welchTest(ratings.get(a.variant) ?? [], ratings.get(b.variant) ?? []);
  if (!test) return { ...base, difference, note: 'No p-value: the ratings do not vary, so the t statistic is undefined.' };
  const significant = test.p < SIGNIFICANCE_LEVEL;
  return {
    ...base,
    difference,
    p_value: test.p,
    significant,
    note: `Welch's t-test on ratings (t = ${test.t.toFixed(2)}), two-sided p-value from the normal approximation: the difference is ${significant ? '' : 'not '}significant at ${SIGNIFICANCE_LEVEL}.`,
  };
}

/** US dollars rounded to the micro-dollar, so float sums do not show as 0.30000000000000004. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
