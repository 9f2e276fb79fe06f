/**
 * Sample-ratio mismatch: do the observed assignment counts fit the configured split? A mismatch
 * means assignment or logging is broken (a variant's jobs go missing, a retry double-counts),
 * and every other comparison in the report is then suspect.
 *
 * The expected split is given as shares per arm (a holdout is just another arm), in one or more
 * segments: traffic that a per-category override sends with other weights is its own segment,
 * so an override does not look like a mismatch. The statistic is Pearson's chi-square
 * goodness-of-fit summed over segments.
 */
import { chiSquareUpper } from './distributions.ts';
import { assertCount, assertOpenUnit, invalidInput } from './errors.ts';

/** One segment: observed counts and expected shares per arm (shares are normalized to sum 1). */
export interface SrmSegment {
  observed: Readonly<Record<string, number>>;
  shares: Readonly<Record<string, number>>;
}

/** Pearson chi-square goodness-of-fit result. */
export interface GoodnessOfFit {
  statistic: number;
  df: number;
  pValue: number;
}

/** The sample-ratio-mismatch verdict. */
export interface SrmResult extends GoodnessOfFit {
  /** True when pValue < alpha, or jobs landed in an arm whose expected share is 0. */
  mismatch: boolean;
  alpha: number;
  /** Expected counts per arm, summed over segments. */
  expected: Record<string, number>;
  observed: Record<string, number>;
}

/**
 * Alpha of the mismatch check. Strict on purpose: the check runs on every report, and with large
 * counts a real mismatch gives p far below it, so a false alarm costs more than a late one.
 */
export const SRM_ALPHA = 0.001;

/** Pearson's chi-square goodness-of-fit of `observed` counts against expected `shares` (same order). */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): GoodnessOfFit {
  if (observed.length !== shares.length || observed.length < 2) throw invalidInput('goodness of fit needs >= 2 categories, with one share each');
  observed.forEach((o) => assertCount(o, 'observed count'));
  if (shares.some((s) => !(s > 0))) throw invalidInput('every expected share must be > 0');
  const totalShare = shares.reduce((s, x) => s + x, 0);
  const n = observed.reduce((s, x) => s + x, 0);
  let statistic = 0;
  observed.forEach((o, i) => {
    const e = (n * shares[i]!) / totalShare;
    if (e > 0) statistic += (o - e) ** 2 / e;
  });
  const df = observed.length - 1;
  return { statistic, df, pValue: n === 0 ? 1 : chiSquareUpper(statistic, df) };
}

/**
 * Expected shares from configured variant weights and an optional holdout share (0..1) taken
 * off the top before the weights split the rest. @defaultValue holdoutShare 0, holdoutArm 'holdout'
 */
export function sharesFromWeights(weights: Readonly<Record<string, number>>, holdoutShare = 0, holdoutArm = 'holdout'): Record<string, number> {
  if (!(holdoutShare >= 0 && holdoutShare < 1)) throw invalidInput(`holdout share must be within [0, 1), got ${holdoutShare}`);
  const total = Object.values(weights).reduce((s, w) => s + Math.max(0, w), 0);
  if (!(total > 0)) throw invalidInput('weights must include a positive weight');
  const shares: Record<string, number> = {};
  for (const [arm, w] of Object.entries(weights)) shares[arm] = (Math.max(0, w) / total) * (1 - holdoutShare);
  if (holdoutShare > 0) shares[holdoutArm] = holdoutShare;
  return shares;
}

/** Sample-ratio-mismatch test over one or more segments. @defaultValue alpha SRM_ALPHA (0.001) */
export function sampleRatioMismatch(segments: readonly SrmSegment[], alpha = SRM_ALPHA): SrmResult {
  assertOpenUnit(alpha, 'alpha');
  let statistic = 0;
  let df = 0;
  let impossible = false;
  const expected: Record<string, number> = {};
  const observed: Record<string, number> = {};
  for (const segment of segments) {
    const arms = [...new Set([...Object.keys(segment.shares), ...Object.keys(segment.observed)])];
    const live = arms.filter((arm) => (segment.shares[arm] ?? 0) > 0);
    for (const arm of arms) {
      const o = segment.observed[arm] ?? 0;
      assertCount(o, `observed count of ${arm}`);
      observed[arm] = (observed[arm] ?? 0) + o;
      expected[arm] ??= 0;
      // Jobs in an arm configured to get none cannot be explained by chance.
      if ((segment.shares[arm] ?? 0) <= 0 && o > 0) impossible = true;
    }
    const n = live.reduce((s, arm) => s + (segment.observed[arm] ?? 0), 0);
    if (live.length === 0) continue;
    const totalShare = live.reduce((s, arm) => s + segment.shares[arm]!, 0);
    for (const arm of live) expected[arm]! += (n * segment.shares[arm]!) / totalShare;
    if (live.length < 2 || n === 0) continue;
    const fit = chiSquareGoodnessOfFit(live.map((arm) => segment.observed[arm] ?? 0), live.map((arm) => segment.shares[arm]!));
    statistic += fit.statistic;
    df += fit.df;
  }
  const pValue = impossible ? 0 : df === 0 ? 1 : chiSquareUpper(statistic, df);
  return { statistic, df, pValue, mismatch: impossible || pValue < alpha, alpha, expected, observed };
}
