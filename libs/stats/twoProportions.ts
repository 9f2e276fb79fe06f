/**
 * Comparing two rates (error, completion, degraded): the difference with Newcombe's hybrid score
 * interval, tested with the pooled two-proportion z-test, or with Fisher's exact test when an
 * expected cell count is below 5 (where the z-test's normal approximation is unreliable).
 */
import { normalTwoSided } from './distributions.ts';
import { assertOpenUnit } from './errors.ts';
import { fisherExact } from './fisher.ts';
import { wilsonInterval } from './proportion.ts';

/** Events out of trials for one group. */
export interface Counts {
  successes: number;
  trials: number;
}

/** The difference rate(a) − rate(b) with its interval and test. */
export interface ProportionComparison {
  /** rate(a) − rate(b), as a fraction (0.02 = 2 percentage points); null when a group has no trials. */
  difference: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
  /** Which test gave the p-value. */
  method: 'z' | 'fisher';
  /** z statistic (null for Fisher's test). */
  z: number | null;
  /** Two-sided p-value; 1 when a group has no trials. */
  pValue: number;
}

/** Smallest expected cell count under the null hypothesis for the z-test to be used. */
export const MIN_EXPECTED_FOR_Z = 5;

/** Pooled two-proportion z statistic and its two-sided p-value (both groups need trials). */
export function twoProportionZTest(a: Counts, b: Counts): { z: number; pValue: number } {
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (a.successes / a.trials - b.successes / b.trials) / se;
  return { z, pValue: normalTwoSided(z) };
}

/**
 * Newcombe's hybrid score interval (his method 10) for rate(a) − rate(b), built from the two
 * Wilson intervals; keeps good coverage for small counts and rates near 0. @defaultValue confidence 0.95
 */
export function newcombeDifference(a: Counts, b: Counts, confidence = 0.95): { difference: number; lower: number; upper: number } {
  const wa = wilsonInterval(a.successes, a.trials, confidence);
  const wb = wilsonInterval(b.successes, b.trials, confidence);
  const pa = wa.estimate ?? 0;
  const pb = wb.estimate ?? 0;
  const difference = pa - pb;
  return {
    difference,
    lower: difference - Math.sqrt((pa - wa.lower) ** 2 + (wb.upper - pb) ** 2),
    upper: difference + Math.sqrt((wa.upper - pa) ** 2 + (pb - wb.lower) ** 2),
  };
}

/** Compares two rates: difference with interval, z-test or (small expected counts) Fisher's exact test. @defaultValue confidence 0.95 */
export function compareProportions(a: Counts, b: Counts, confidence = 0.95): ProportionComparison {
  assertOpenUnit(confidence, 'confidence');
  if (a.trials === 0 || b.trials === 0) {
    wilsonInterval(a.successes, a.trials, confidence); // validates the counts
    wilsonInterval(b.successes, b.trials, confidence);
    return { difference: null, lower: null, upper: null, confidence, method: 'z', z: null, pValue: 1 };
  }
  const interval = newcombeDifference(a, b, confidence);
  const n = a.trials + b.trials;
  const events = a.successes + b.successes;
  const minExpected = (Math.min(a.trials, b.trials) * Math.min(events, n - events)) / n;
  if (minExpected < MIN_EXPECTED_FOR_Z) {
    const pValue = fisherExact({ a: a.successes, b: a.trials - a.successes, c: b.successes, d: b.trials - b.successes });
    return { ...interval, confidence, method: 'fisher', z: null, pValue };
  }
  const { z, pValue } = twoProportionZTest(a, b);
  return { ...interval, confidence, method: 'z', z, pValue };
}
