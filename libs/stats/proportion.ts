/**
 * Confidence interval for one proportion (completion, error or degraded rate). Wilson's score
 * interval keeps its coverage near the nominal level even for rates near 0 or 1 and small n,
 * where the textbook Wald interval (p ± z·se) collapses to zero width.
 */
import { normalQuantile } from './distributions.ts';
import { assertCount, assertOpenUnit, invalidInput } from './errors.ts';

/** A proportion with its interval; `estimate` is null when there were no trials. */
export interface ProportionInterval {
  successes: number;
  trials: number;
  estimate: number | null;
  lower: number;
  upper: number;
  confidence: number;
}

/**
 * Wilson score interval for `successes` out of `trials` (no continuity correction).
 * With no trials the interval is [0, 1]. @defaultValue confidence 0.95
 */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): ProportionInterval {
  assertCount(successes, 'successes');
  assertCount(trials, 'trials');
  assertOpenUnit(confidence, 'confidence');
  if (successes > trials) throw invalidInput(`successes (${successes}) exceed trials (${trials})`);
  if (trials === 0) return { successes, trials, estimate: null, lower: 0, upper: 1, confidence };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const p = successes / trials;
  const denominator = trials + z2;
  const center = (successes + z2 / 2) / denominator;
  const half = (z / denominator) * Math.sqrt((successes * (trials - successes)) / trials + z2 / 4);
  // Clamp only float noise: the exact bounds are within [0, 1], and equal 0 or 1 at the extremes.
  const lower = successes === 0 ? 0 : Math.max(0, center - half);
  const upper = successes === trials ? 1 : Math.min(1, center + half);
  return { successes, trials, estimate: p, lower, upper, confidence };
}
