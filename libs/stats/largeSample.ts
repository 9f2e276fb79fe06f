/**
 * Closed-form intervals for large samples, where a bootstrap would cost seconds (O(iterations × n))
 * and gives the same answer: the sample mean is normal by the central limit theorem, and a sample
 * quantile's rank is binomial, so its interval is a pair of order statistics.
 */
import { normalQuantile } from './distributions.ts';
import { invalidInput } from './errors.ts';

/** Mean ± z·s/√n of `values` (sample standard deviation). */
export function normalMeanInterval(values: ArrayLike<number>, confidence: number): { estimate: number; lower: number; upper: number } {
  const n = values.length;
  if (n < 2) throw invalidInput('a normal interval needs at least 2 values');
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const delta = values[i]! - mean;
    mean += delta / (i + 1);
    m2 += delta * (values[i]! - mean);
  }
  const half = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(m2 / (n - 1) / n);
  return { estimate: mean, lower: mean - half, upper: mean + half };
}

/**
 * Distribution-free interval for quantile q of ascending `sorted`: the order statistics at ranks
 * n·q ∓ z·√(n·q·(1 − q)) (normal approximation to the binomial count below the quantile).
 */
export function orderStatisticInterval(sorted: ArrayLike<number>, q: number, confidence: number): { lower: number; upper: number } {
  const n = sorted.length;
  if (n === 0) throw invalidInput('quantile of an empty sample');
  const spread = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(n * q * (1 - q));
  // 1-based ranks, widened outward to whole ranks so coverage is at least nominal.
  const lowerRank = Math.min(n, Math.max(1, Math.floor(n * q - spread)));
  const upperRank = Math.min(n, Math.max(1, Math.ceil(n * q + spread)));
  return { lower: sorted[lowerRank - 1]!, upper: sorted[upperRank - 1]! };
}
