/**
 * STUB, replaced by the real cost analysis at merge: same signature, empty and zero figures, so
 * the report can be assembled and tested before it lands.
 */
import type { ExperimentRow } from '../store/types.ts';
import type { CostAnalysis, TimePercentiles } from './reportTypes.ts';

/** What the cost analysis needs besides the rows. */
export interface CostAnalysisOptions {
  /** Configured variants with their weights, in configured order. */
  variants: readonly { name: string; weight: number }[];
  /** The report's time. */
  now: Date;
  /** ISO-8601 start of the report's window. */
  since: string;
}

const noTimes: TimePercentiles = { n: 0, p50: null, p95: null, p99: null };

/** Spend, projection and alternative splits of the rows (stub: all empty or zero). */
export function analyseCosts(_rows: readonly ExperimentRow[], options: CostAnalysisOptions): CostAnalysis {
  return {
    by_variant: options.variants.map((v) => ({ variant: v.name, usd: 0 })),
    by_category: [],
    by_day: [],
    month: { month: options.now.toISOString().slice(0, 7), spent_usd: 0, daily_rate_usd: 0, projected_usd: 0, days_elapsed: 0, days_in_month: 0 },
    alternative_splits: [],
    cache_saved_usd: 0,
    time_ms: { queue: noTimes, provider: noTimes, gateway: noTimes, total: noTimes },
  };
}
