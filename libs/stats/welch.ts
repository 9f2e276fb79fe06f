/**
 * Welch's t-test for a difference in means (cost per job, rating, log latency) when the two
 * variants may have different variances. Works from summaries (n, mean, variance), so a report
 * can feed it pre-aggregated rows; the p-value and interval use the t distribution with the
 * Welch–Satterthwaite degrees of freedom.
 */
import { tQuantile, tTwoSided } from './distributions.ts';
import { assertOpenUnit, invalidInput } from './errors.ts';

/** Count, mean and sample variance (n − 1 denominator) of one group. */
export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

/** Mean difference a − b with its interval and test. */
export interface WelchResult {
  /** mean(a) − mean(b), in the unit of the data. */
  difference: number;
  lower: number;
  upper: number;
  confidence: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  df: number;
  /** Two-sided p-value. */
  pValue: number;
  /** Cohen's d: the difference over the pooled standard deviation; null when both variances are 0. */
  cohensD: number | null;
  standardError: number;
}

/** n, mean and sample variance of `values` (variance 0 for a single value). */
export function summarize(values: ArrayLike<number>): SampleSummary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, variance: NaN };
  let mean = 0;
  let m2 = 0;
  // Welford's update: one pass, and no catastrophic cancellation on large sums of micro-dollars.
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    const delta = x - mean;
    mean += delta / (i + 1);
    m2 += delta * (x - mean);
  }
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : 0 };
}

/** Welch's two-sample t-test of a against b; each group needs n >= 2. @defaultValue confidence 0.95 */
export function welchTTest(a: SampleSummary, b: SampleSummary, confidence = 0.95): WelchResult {
  assertOpenUnit(confidence, 'confidence');
  if (a.n < 2 || b.n < 2) throw invalidInput(`Welch's t-test needs at least 2 values per group, got ${a.n} and ${b.n}`);
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const standardError = Math.sqrt(va + vb);
  const difference = a.mean - b.mean;
  const pooledVariance = ((a.n - 1) * a.variance + (b.n - 1) * b.variance) / (a.n + b.n - 2);
  const cohensD = pooledVariance > 0 ? difference / Math.sqrt(pooledVariance) : null;
  if (standardError === 0) {
    // Both groups constant: the difference is known exactly.
    return { difference, lower: difference, upper: difference, confidence, t: difference === 0 ? 0 : Math.sign(difference) * Infinity, df: a.n + b.n - 2, pValue: difference === 0 ? 1 : 0, cohensD, standardError };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const t = difference / standardError;
  const margin = tQuantile(1 - (1 - confidence) / 2, df) * standardError;
  return { difference, lower: difference - margin, upper: difference + margin, confidence, t, df, pValue: tTwoSided(t, df), cohensD, standardError };
}
