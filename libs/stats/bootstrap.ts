/**
 * Percentile bootstrap intervals for statistics without a handy formula (latency percentiles,
 * mean cost per job with a skewed distribution). Resampling uses a seeded generator, so the same
 * rows always give the same interval.
 *
 * Cost is O(iterations × n) per interval. Quantiles avoid a sort per resample: each resample is
 * drawn as counts over the ranks of the once-sorted data, and the quantile is found by walking
 * those counts. Above `maxBootstrapN` values the closed-form large-sample interval is used
 * instead (same answer at that size, milliseconds instead of seconds); `method` says which.
 */
import { assertOpenUnit, invalidInput } from './errors.ts';
import { normalMeanInterval, orderStatisticInterval } from './largeSample.ts';
import { seededRng } from './rng.ts';

/** A point estimate with its percentile bootstrap interval; null fields when there is no data. */
export interface BootstrapInterval {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
  /** Resamples drawn (0 when the large-sample formula was used). */
  iterations: number;
  /** How the interval was computed. */
  method: 'bootstrap' | 'normal' | 'order_statistic';
}

/** Bootstrap settings. */
export interface BootstrapOptions {
  /** Resamples drawn. @defaultValue 1000 */
  iterations?: number;
  /** Two-sided confidence level. @defaultValue 0.95 */
  confidence?: number;
  /** Seed of the resampling generator. @defaultValue 1 */
  seed?: number;
  /** Largest sample that is bootstrapped; larger ones use the closed-form interval. @defaultValue 20000 */
  maxBootstrapN?: number;
  /** The values are already ascending, so bootstrapQuantile skips its copy and sort. @defaultValue false */
  sorted?: boolean;
}

const DEFAULT_ITERATIONS = 1000;
/** Past this many values a 1,000-resample bootstrap takes hundreds of milliseconds and agrees with the formulas. */
export const DEFAULT_MAX_BOOTSTRAP_N = 20_000;

/** Quantile q (0..1) of ascending `sorted` with linear interpolation (Hyndman–Fan type 7, as numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw invalidInput('quantile of an empty sample');
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function settle(options: BootstrapOptions): Required<BootstrapOptions> {
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(iterations) || iterations < 10) throw invalidInput(`iterations must be an integer >= 10, got ${iterations}`);
  assertOpenUnit(confidence, 'confidence');
  return { iterations, confidence, seed: options.seed ?? 1, maxBootstrapN: options.maxBootstrapN ?? DEFAULT_MAX_BOOTSTRAP_N, sorted: options.sorted ?? false };
}

function percentileInterval(estimate: number, replicates: Float64Array, o: Required<BootstrapOptions>): BootstrapInterval {
  replicates.sort();
  const tail = (1 - o.confidence) / 2;
  return {
    estimate,
    lower: quantileSorted(replicates, tail),
    upper: quantileSorted(replicates, 1 - tail),
    confidence: o.confidence,
    iterations: o.iterations,
    method: 'bootstrap',
  };
}

function empty(o: Required<BootstrapOptions>): BootstrapInterval {
  return { estimate: null, lower: null, upper: null, confidence: o.confidence, iterations: 0, method: 'bootstrap' };
}

/** Bootstrap interval of the mean of `values` (any unit; the interval has the same unit). */
export function bootstrapMean(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  const o = settle(options);
  const n = values.length;
  if (n === 0) return empty(o);
  if (n > o.maxBootstrapN) return { ...normalMeanInterval(values, o.confidence), confidence: o.confidence, iterations: 0, method: 'normal' };
  const rng = seededRng(o.seed);
  const replicates = new Float64Array(o.iterations);
  for (let i = 0; i < o.iterations; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += values[Math.floor(rng() * n)]!;
    replicates[i] = sum / n;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += values[i]!;
  const estimate = total / n;
  return percentileInterval(estimate, replicates, o);
}

/** Bootstrap interval of quantile `q` (0..1, e.g. 0.95 for p95) of `values`. */
export function bootstrapQuantile(values: ArrayLike<number>, q: number, options: BootstrapOptions = {}): BootstrapInterval {
  if (!(q >= 0 && q <= 1)) throw invalidInput(`quantile must be within [0, 1], got ${q}`);
  const o = settle(options);
  const n = values.length;
  if (n === 0) return empty(o);
  const sorted = o.sorted ? values : Float64Array.from(values).sort();
  if (n > o.maxBootstrapN) {
    return { estimate: quantileSorted(sorted, q), ...orderStatisticInterval(sorted, q, o.confidence), confidence: o.confidence, iterations: 0, method: 'order_statistic' };
  }
  const rng = seededRng(o.seed);
  const counts = new Uint32Array(n);
  const replicates = new Float64Array(o.iterations);
  const h = (n - 1) * q;
  const loRank = Math.floor(h);
  const hiRank = Math.min(n - 1, loRank + 1);
  for (let i = 0; i < o.iterations; i++) {
    counts.fill(0);
    for (let j = 0; j < n; j++) counts[Math.floor(rng() * n)]!++;
    // Walk the counts to find the resample's order statistics at loRank and hiRank.
    let seen = 0;
    let lo = NaN;
    let hi = NaN;
    for (let r = 0; r < n; r++) {
      seen += counts[r]!;
      if (Number.isNaN(lo) && seen > loRank) lo = sorted[r]!;
      if (seen > hiRank) {
        hi = sorted[r]!;
        break;
      }
    }
    replicates[i] = lo + (h - loRank) * (hi - lo);
  }
  return percentileInterval(quantileSorted(sorted, q), replicates, o);
}
