/**
 * Mann–Whitney U test (Wilcoxon rank-sum) for latency: it compares whole distributions by rank,
 * so a few very slow jobs do not dominate as they would a t-test on raw milliseconds.
 * The p-value uses the normal approximation with the tie correction of the variance, suitable
 * once each group has more than about 20 observations; latencies in milliseconds tie often.
 */
import { normalTwoSided } from './distributions.ts';
import { invalidInput } from './errors.ts';

/** The result of comparing sample a against sample b. */
export interface MannWhitneyResult {
  /** U of sample a: the number of (a, b) pairs with a > b, ties counting one half. */
  u: number;
  /** Sum of the ranks of sample a in the pooled sample (average ranks for ties). */
  rankSumA: number;
  z: number;
  /** Two-sided p-value (normal approximation, tie-corrected). */
  pValue: number;
  /** P(a > b) + P(a = b)/2 = U / (n_a·n_b): 0.5 when neither tends to be larger. */
  probabilityOfSuperiority: number;
  /** Rank-biserial correlation 2·U/(n_a·n_b) − 1, in [−1, 1]; positive when a tends to be larger. */
  rankBiserial: number;
  nA: number;
  nB: number;
}

/** Options of the test. */
export interface MannWhitneyOptions {
  /** Subtract 0.5 from |U − mean| before dividing (as R's wilcox.test and SciPy do). @defaultValue true */
  continuity?: boolean;
}

/** Mann–Whitney U test of `a` against `b` (two-sided). Both samples need at least one value. */
export function mannWhitneyU(a: readonly number[], b: readonly number[], options: MannWhitneyOptions = {}): MannWhitneyResult {
  return mannWhitneyUSorted(Float64Array.from(a).sort(), Float64Array.from(b).sort(), options);
}

/**
 * mannWhitneyU of samples already sorted ascending (as a report holds them for its percentiles):
 * ranks come from one merge of the two, so no pooled sort is needed (a native typed-array sort
 * per sample and a linear merge are several times faster than sorting the pooled indices).
 */
export function mannWhitneyUSorted(a: Float64Array, b: Float64Array, options: MannWhitneyOptions = {}): MannWhitneyResult {
  const nA = a.length;
  const nB = b.length;
  if (nA === 0 || nB === 0) throw invalidInput('Mann–Whitney needs at least one value in each sample');
  const n = nA + nB;
  let rankSumA = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  let ranked = 0;
  // Each step takes every value equal to the smallest remaining one from both samples: one tie group.
  while (i < nA || j < nB) {
    const value = j >= nB || (i < nA && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let inA = 0;
    while (i + inA < nA && a[i + inA] === value) inA++;
    let inB = 0;
    while (j + inB < nB && b[j + inB] === value) inB++;
    i += inA;
    j += inB;
    const t = inA + inB;
    if (t === 0) throw invalidInput('Mann–Whitney needs numbers, got NaN');
    rankSumA += inA * (ranked + (t + 1) / 2);
    tieTerm += t * t * t - t;
    ranked += t;
  }
  const u = rankSumA - (nA * (nA + 1)) / 2;
  const mean = (nA * nB) / 2;
  const variance = ((nA * nB) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  let z = 0;
  if (variance > 0) {
    const deviation = u - mean;
    const corrected = options.continuity === false ? Math.abs(deviation) : Math.max(0, Math.abs(deviation) - 0.5);
    z = (Math.sign(deviation) * corrected) / Math.sqrt(variance);
  }
  const probabilityOfSuperiority = u / (nA * nB);
  return {
    u,
    rankSumA,
    z,
    pValue: variance > 0 ? normalTwoSided(z) : 1,
    probabilityOfSuperiority,
    rankBiserial: 2 * probabilityOfSuperiority - 1,
    nA,
    nB,
  };
}
