/**
 * The cost of each variant's jobs split by the lane that answered them. A batch job costs the
 * batch price (half the realtime one at both providers), so when one variant rides the batch
 * lane more than another, its all-jobs cost per job is lower for that reason alone: each lane's
 * cost per job is the like-for-like comparison. Pure arithmetic, no I/O.
 */
import type { CostAnalysis, LaneCost, VariantLanes } from './reportTypes.ts';

/**
 * Percentage points the variants' batch shares may differ by before the report says the
 * all-jobs cost comparison mixes price lanes. @defaultValue 10
 */
export const LANE_MIX_NOTE_POINTS = 10;

const MICROS_PER_USD = 1_000_000;

/** One variant's jobs and integer micro-dollars in one lane, as the cost analysis counts them. */
export interface LaneTally {
  jobs: number;
  micros: number;
}

/** A tally at zero. */
export function newLaneTally(): LaneTally {
  return { jobs: 0, micros: 0 };
}

/** A variant's lane figures from its tallies; money in dollars rounded to the micro-dollar. */
export function variantLanes(variant: string, realtime: LaneTally, batch: LaneTally): VariantLanes {
  const jobs = realtime.jobs + batch.jobs;
  return { variant, realtime: laneCost(realtime), batch: laneCost(batch), batch_share: jobs === 0 ? null : batch.jobs / jobs };
}

/**
 * The lanes part of the cost analysis: the variants' figures, the spread of their batch shares
 * (variants without jobs left out; null below two) and, when it exceeds LANE_MIX_NOTE_POINTS,
 * a sentence saying so.
 */
export function laneSplit(variants: VariantLanes[]): CostAnalysis['lanes'] {
  const shares = variants.filter((v) => v.batch_share !== null);
  if (shares.length < 2) return { by_variant: variants, batch_share_spread: null, note: null };
  const values = shares.map((v) => v.batch_share!);
  const spread = Math.max(...values) - Math.min(...values);
  // Rounded to a millionth: 0.55 − 0.45 must read as 10 points, not a hair over.
  const points = Math.round(spread * 100 * 1e6) / 1e6;
  const note =
    points > LANE_MIX_NOTE_POINTS
      ? `The variants' batch shares differ by ${points.toFixed(1)} points (${shares.map((v) => `${v.variant} ${(v.batch_share! * 100).toFixed(1)}%`).join(', ')}): the cost per job over all jobs, and its test, mix batch-price and realtime-price jobs, so part of that difference is the lane mix. Compare each lane's cost per job for the like-for-like cost.`
      : null;
  return { by_variant: variants, batch_share_spread: spread, note };
}

function laneCost(t: LaneTally): LaneCost {
  return { jobs: t.jobs, usd: Math.round(t.micros) / MICROS_PER_USD, per_job_usd: t.jobs === 0 ? null : Math.round(t.micros / t.jobs) / MICROS_PER_USD };
}
