import { LLM_SECONDS_BUCKETS } from '../metricNames.ts';

// The LLM buckets live with the metric contract, which the alert rules and the dashboard are checked against.
export { LLM_SECONDS_BUCKETS };

/** Upper bounds in seconds of the API's request histogram: intake answers in milliseconds, not seconds. */
export const HTTP_SECONDS_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The `q` quantile (0..1) of `values` (seconds) as Prometheus' histogram_quantile computes it from
 * buckets with upper bounds `bounds`: linear interpolation inside the bucket holding the rank, the
 * first bucket starting at 0, and the highest finite bound when the rank falls in +Inf. NaN when
 * there are no values. Lets a test or a report compute the same figure from stored records.
 */
export function bucketQuantile(q: number, values: readonly number[], bounds: readonly number[] = LLM_SECONDS_BUCKETS): number {
  if (values.length === 0) return NaN;
  // Cumulative counts per bound, as `le` buckets hold them (a value equal to a bound is in it).
  const cumulative = bounds.map((b) => values.filter((v) => v <= b).length);
  const rank = q * values.length;
  // The first finite bucket reaching the rank (Prometheus 2.x bucketQuantile).
  const i = cumulative.findIndex((c) => c >= rank);
  if (i === -1) return bounds[bounds.length - 1]!;
  const lower = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : cumulative[i - 1]!;
  return lower + (bounds[i]! - lower) * ((rank - below) / (cumulative[i]! - below));
}
