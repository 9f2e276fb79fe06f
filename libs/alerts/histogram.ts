/**
 * The latency histogram the alerter keeps in Redis: the same bucket bounds as the workers'
 * Prometheus histograms, and Prometheus's histogram_quantile arithmetic, so the built-in p95 alert
 * and the shipped Prometheus rule decide alike on the same jobs.
 */

/** Upper bounds in seconds of the LLM latency buckets (a last, implicit bucket is +Inf). */
export const LATENCY_BUCKETS_S: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120];

/** Index of the bucket a latency in seconds falls in: the first bound at or above it; LATENCY_BUCKETS_S.length for +Inf. */
export function bucketIndex(seconds: number): number {
  const i = LATENCY_BUCKETS_S.findIndex((bound) => seconds <= bound);
  return i === -1 ? LATENCY_BUCKETS_S.length : i;
}

/**
 * The `q` quantile (0-1) in seconds of per-bucket counts (not cumulative; index as bucketIndex),
 * interpolated linearly inside its bucket as Prometheus does; the highest finite bound when it
 * falls in +Inf; null when the counts are empty.
 */
export function histogramQuantile(q: number, counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i <= LATENCY_BUCKETS_S.length; i++) {
    const n = counts[i] ?? 0;
    if (below + n >= rank && n > 0) {
      if (i === LATENCY_BUCKETS_S.length) return LATENCY_BUCKETS_S[i - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_S[i - 1]!;
      const upper = LATENCY_BUCKETS_S[i]!;
      return lower + (upper - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]!;
}
