/**
 * The shape of the experiment report (GET /v1/experiments/:id/report, `npm run report`): the
 * contract between the analysis (report.ts and its parts), the API, the worker thread that builds
 * it and the CLI that prints it. Every interval is two-sided at `confidence` (0.95); money is US
 * dollars rounded to the micro-dollar; times are milliseconds; rates are fractions (0.02 = 2%).
 */
import type { Verdict } from '../stats/index.ts';
import type { ServedBy } from '../store/types.ts';

/** A point estimate and its interval; all null when there is no data. */
export interface Estimate {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  /** How the interval was computed: `wilson`, `bootstrap`, `normal`, `order_statistic`, `t`. */
  method: string;
}

/** `count` of `of` with its Wilson interval. */
export interface RateEstimate extends Estimate {
  count: number;
  of: number;
}

/** The paths that answer a completed job; `unknown` for records written before `served_by` existed. */
export type ServedByKey = ServedBy | 'unknown';

/** One variant's figures. */
export interface VariantFigures {
  variant: string;
  provider: string | null;
  model: string | null;
  prompt_version: string | null;
  /** The configured weight (before overrides), as a share of all variants' weights. */
  configured_share: number;
  /** Jobs assigned to the variant in the window (holdout units excluded). */
  jobs: number;
  /** Distinct assignment units (users) among them. */
  units: number;
  completed: number;
  failed: number;
  rejected: number;
  /** Completed over jobs. */
  completion_rate: RateEstimate;
  /** Failed (not rejected by the budget) over jobs. */
  error_rate: RateEstimate;
  /** Degraded answers over completed jobs. */
  degraded_rate: RateEstimate;
  /** Completed jobs by the path that answered them. */
  served_by: Record<ServedByKey, number>;
  /** Jobs the variant's own model answered (served_by = provider, not degraded): the comparison's sample. */
  model_served: number;
  /** Provider latency of model-served answers, with bootstrap (or order-statistic) intervals. */
  provider_latency_ms: { n: number; p50: Estimate; p95: Estimate; p99: Estimate };
  cost_usd: {
    /** Everything the variant's jobs cost, whatever answered them. */
    total: number;
    /** Mean over all jobs (failed ones cost 0 or what their attempts cost). */
    per_job: Estimate;
    /** Total over completed jobs. */
    per_successful_job: Estimate;
  };
  /** Tokens and cost of model-served answers only, so tokens × prices reconcile with `cost_usd`. */
  tokens: { jobs: number; input: number; output: number; cost_usd: number };
  /** Ratings of model-served answers. */
  rating: { n: number; mean: Estimate; stdev: number | null };
}

/** The effect size reported with a test. */
export interface EffectSize {
  /** `rank_biserial`, `probability_of_superiority`, `cohens_h`, `cohens_d`. */
  name: string;
  value: number | null;
}

/** One metric compared between variants a and b; difference = a − b in the metric's unit. */
export interface MetricTest {
  /** `provider_latency_ms`, `error_rate`, `cost_per_job_usd`, `cost_per_successful_job_usd`, `rating`. */
  metric: string;
  /** `mann_whitney_u`, `two_proportion_z`, `fisher_exact`, `welch_t`. */
  test: string;
  a_value: number | null;
  b_value: number | null;
  difference: number | null;
  lower: number | null;
  upper: number | null;
  /** Two-sided p-value (after correction in per-category tables); null when not computed. */
  p_value: number | null;
  /** The uncorrected p-value, in per-category tables. */
  raw_p_value?: number | null;
  effect_size: EffectSize | null;
  /** Better is `lower` (latency, errors, cost) or `higher` (rating). */
  better: 'lower' | 'higher';
  /** The winning variant when the difference is significant, else null. */
  winner: string | null;
  /** More jobs (or ratings, for `rating`) per variant a decision needs at 80% power for the observed effect; null when unknown, 0 when decided. */
  additional_needed: number | null;
  /** Why a figure is null, when one is. */
  note?: string;
}

/** The comparison of two variants. */
export interface Comparison {
  a: string;
  b: string;
  tests: MetricTest[];
}

/** The sample-ratio-mismatch check: are units split as configured? */
export interface SampleRatioCheck {
  test: 'chi_square';
  /** What is counted: distinct units (users), since assignment is sticky per unit. */
  counted: 'units';
  /** Observed units per arm (variants, plus `holdout` when the experiment has one). */
  observed: Record<string, number>;
  /** Expected units per arm from the configured weights, overrides and holdout. */
  expected: Record<string, number>;
  statistic: number | null;
  df: number | null;
  p_value: number | null;
  alpha: number;
  mismatch: boolean;
  /** What the result means and what to do about it. */
  note: string;
}

/** The comparison within one value of one category field. */
export interface CategoryRow {
  value: string;
  /** Jobs per variant in this category value. */
  jobs: Record<string, number>;
  tests: MetricTest[];
  /** Per metric, the winning variant after correction (absent metrics: no detectable difference). */
  winners: Record<string, string>;
}

/** The per-category view of one field. */
export interface CategoryBreakdown {
  field: 'sector' | 'degree_level' | 'experience_band';
  /** The multiple-comparison correction applied to every p-value of this field's tests. */
  correction: 'holm' | 'benjamini_hochberg';
  rows: CategoryRow[];
}

/** Percentiles of one part of a job's time. */
export interface TimePercentiles {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** One variant's jobs answered in one lane. */
export interface LaneCost {
  jobs: number;
  /** What those jobs cost. */
  usd: number;
  /** Mean cost per job; null without jobs. */
  per_job_usd: number | null;
}

/** One variant's jobs (holdout left out, as in the comparison) split by the lane that answered them. */
export interface VariantLanes {
  variant: string;
  realtime: LaneCost;
  batch: LaneCost;
  /** Batch jobs over all the variant's jobs; null without jobs. */
  batch_share: number | null;
}

/** Spend, projection and alternative splits; where time goes. */
export interface CostAnalysis {
  by_variant: { variant: string; usd: number }[];
  by_category: { field: 'sector' | 'degree_level' | 'experience_band'; value: string; usd: number }[];
  /** UTC days, oldest first, with spend per variant. */
  by_day: { day: string; usd: number; by_variant: Record<string, number> }[];
  /** The current calendar month (UTC) of `generated_at`. */
  month: { month: string; spent_usd: number; daily_rate_usd: number; projected_usd: number; days_elapsed: number; days_in_month: number };
  /** What a month at the current volume would cost at each split, from each variant's cost per job. */
  alternative_splits: { shares: Record<string, number>; monthly_usd: number; saving_vs_current_usd: number }[];
  /** What cache-served answers would have cost had the variant's model answered them. */
  cache_saved_usd: number;
  /**
   * Each variant's jobs by lane: batch jobs cost the batch price, so each lane's cost per job is the
   * like-for-like comparison. `batch_share_spread` is the largest minus the smallest batch share of
   * the variants with jobs (null below two); `note` says in words when it exceeds
   * LANE_MIX_NOTE_POINTS, since the all-jobs cost comparison then mixes price lanes.
   */
  lanes: { by_variant: VariantLanes[]; batch_share_spread: number | null; note: string | null };
  /** Queue, provider and gateway (total − queue − provider) time of completed jobs. */
  time_ms: { queue: TimePercentiles; provider: TimePercentiles; gateway: TimePercentiles; total: TimePercentiles };
}

/** The whole report. */
export interface ExperimentReport {
  experiment: string;
  /** ISO-8601 start of the window: jobs created at or after it are counted. */
  since: string;
  generated_at: string;
  confidence: number;
  /** Which jobs the model comparison uses, in words. */
  note: string;
  /** Jobs of the experiment that ended before a variant was assigned (counted in no variant). */
  unassigned_jobs: number;
  /** Jobs of holdout units (served by the control, outside the comparison). */
  holdout_jobs: number;
  variants: VariantFigures[];
  /** The first variant (the control) against each other variant. */
  comparisons: Comparison[];
  sample_ratio: SampleRatioCheck;
  /** Plain words over the first comparison's tests, with how sure and what a decision still needs. */
  verdict: Verdict;
  categories: CategoryBreakdown[];
  cost: CostAnalysis;
}
