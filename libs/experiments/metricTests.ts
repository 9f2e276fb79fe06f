/**
 * The tests between two variants (or two variants within one category value): provider latency
 * by Mann–Whitney, error rate by the two-proportion z-test (Fisher's exact test for small
 * counts), cost per job, cost per successful job and rating by Welch's t-test. Each answers the
 * difference a − b with its interval, a p-value, an effect size, the winner at p < 0.05, and how
 * many more observations a decision needs when there is none.
 */
import {
  additionalNeeded,
  cohensH,
  compareProportions,
  mannWhitneyUSorted,
  orderStatisticInterval,
  quantileSorted,
  sampleSizeMannWhitney,
  sampleSizeMeans,
  sampleSizeProportions,
  summarize,
  welchTTest,
} from '../stats/index.ts';
import type { ArmSample } from './armSample.ts';
import type { Estimate, MetricTest } from './reportTypes.ts';
import { roundUsd } from './variantFigures.ts';

/** A difference is significant (and has a winner) when its p-value is below this. */
export const SIGNIFICANCE_LEVEL = 0.05;

/** One side of a comparison. */
export interface ComparedArm {
  name: string;
  sample: ArmSample;
  /** The median of its latencies with an interval (bootstrap per variant, order statistics per category). */
  medianLatency: Estimate;
}

/** The median of ascending `sorted` with its distribution-free order-statistic interval; nulls when empty. */
export function orderStatisticMedian(sorted: Float64Array, confidence: number): Estimate {
  if (sorted.length === 0) return { estimate: null, lower: null, upper: null, method: 'order_statistic' };
  return { estimate: quantileSorted(sorted, 0.5), ...orderStatisticInterval(sorted, 0.5, confidence), method: 'order_statistic' };
}

/**
 * The winner of a test at `pValue` (which may be corrected): the better side when the p-value is
 * below SIGNIFICANCE_LEVEL and the difference is not zero, else null.
 */
export function winnerOf(test: Pick<MetricTest, 'difference' | 'better'>, pValue: number | null, a: string, b: string): string | null {
  if (pValue === null || test.difference === null || test.difference === 0 || !(pValue < SIGNIFICANCE_LEVEL)) return null;
  const aBetter = test.better === 'lower' ? test.difference < 0 : test.difference > 0;
  return aBetter ? a : b;
}

type Untested = Omit<MetricTest, 'winner'>;

function notTested(metric: string, test: string, better: MetricTest['better'], note: string, aValue: number | null = null, bValue: number | null = null): Untested {
  return { metric, test, a_value: aValue, b_value: bValue, difference: null, lower: null, upper: null, p_value: null, effect_size: null, better, additional_needed: null, note };
}

/** More observations per variant a decision needs: 0 once decided, else from the observed effect. */
function stillNeeded(pValue: number, required: () => number | null, nA: number, nB: number): number | null {
  return pValue < SIGNIFICANCE_LEVEL ? 0 : additionalNeeded(required(), nA, nB);
}

/**
 * Latency: Mann–Whitney U on model-served answers; the difference is of the medians, with Price
 * and Bonett's (2002) interval: each median's interval half-width read as z·SE, combined as
 * z·√(SE_a² + SE_b²) (z cancels, so the half-widths add in quadrature).
 */
function latencyTest(a: ComparedArm, b: ComparedArm): Untested {
  const metric = 'provider_latency_ms';
  if (a.sample.sortedLatencies.length === 0 || b.sample.sortedLatencies.length === 0) {
    return notTested(metric, 'mann_whitney_u', 'lower', 'Needs latencies of model-served answers in both variants.', a.medianLatency.estimate, b.medianLatency.estimate);
  }
  const mw = mannWhitneyUSorted(a.sample.sortedLatencies, b.sample.sortedLatencies);
  const ma = a.medianLatency;
  const mb = b.medianLatency;
  const difference = ma.estimate! - mb.estimate!;
  const half = Math.hypot((ma.upper! - ma.lower!) / 2, (mb.upper! - mb.lower!) / 2);
  return {
    metric,
    test: 'mann_whitney_u',
    a_value: ma.estimate,
    b_value: mb.estimate,
    difference,
    lower: difference - half,
    upper: difference + half,
    p_value: mw.pValue,
    effect_size: { name: 'rank_biserial', value: mw.rankBiserial },
    better: 'lower',
    additional_needed: stillNeeded(mw.pValue, () => sampleSizeMannWhitney(mw.probabilityOfSuperiority), mw.nA, mw.nB),
    note: `Difference of medians (${ma.method} intervals of each median combined as Price & Bonett 2002); p-value of the Mann–Whitney U test on all model-served latencies.`,
  };
}

function errorRateTest(a: ArmSample, b: ArmSample, confidence: number): Untested {
  const metric = 'error_rate';
  if (a.jobs === 0 || b.jobs === 0) return notTested(metric, 'two_proportion_z', 'lower', 'Needs jobs in both variants.', a.jobs ? a.failed / a.jobs : null, b.jobs ? b.failed / b.jobs : null);
  const pa = a.failed / a.jobs;
  const pb = b.failed / b.jobs;
  const c = compareProportions({ successes: a.failed, trials: a.jobs }, { successes: b.failed, trials: b.jobs }, confidence);
  return {
    metric,
    test: c.method === 'fisher' ? 'fisher_exact' : 'two_proportion_z',
    a_value: pa,
    b_value: pb,
    difference: c.difference,
    lower: c.lower,
    upper: c.upper,
    p_value: c.pValue,
    effect_size: { name: 'cohens_h', value: cohensH(pa, pb) },
    better: 'lower',
    additional_needed: stillNeeded(c.pValue, () => sampleSizeProportions(pa, pb), a.jobs, b.jobs),
  };
}

/** Welch's t-test of two samples of one metric; `money` rounds the figures to micro-dollars. */
function meanTest(metric: string, better: MetricTest['better'], a: Float64Array, b: Float64Array, confidence: number, what: string, money: boolean): Untested {
  const round = money ? roundUsd : (x: number) => x;
  const sa = summarize(a);
  const sb = summarize(b);
  const mean = (s: typeof sa) => (s.n > 0 ? round(s.mean) : null);
  if (sa.n < 2 || sb.n < 2) return notTested(metric, 'welch_t', better, `Needs at least 2 ${what} per variant (${sa.n} and ${sb.n}).`, mean(sa), mean(sb));
  const w = welchTTest(sa, sb, confidence);
  return {
    metric,
    test: 'welch_t',
    a_value: mean(sa),
    b_value: mean(sb),
    difference: round(w.difference),
    lower: round(w.lower),
    upper: round(w.upper),
    p_value: w.pValue,
    effect_size: { name: 'cohens_d', value: w.cohensD },
    better,
    additional_needed: stillNeeded(w.pValue, () => (w.cohensD === null ? null : sampleSizeMeans(w.cohensD)), sa.n, sb.n),
  };
}

/** Every metric of a against b (latency, error rate, cost per job, cost per successful job, rating), with winners at the uncorrected p-value. */
export function metricTests(a: ComparedArm, b: ComparedArm, confidence: number): MetricTest[] {
  const untested = [
    latencyTest(a, b),
    errorRateTest(a.sample, b.sample, confidence),
    meanTest('cost_per_job_usd', 'lower', a.sample.jobCosts, b.sample.jobCosts, confidence, 'jobs', true),
    meanTest('cost_per_successful_job_usd', 'lower', a.sample.successfulCosts, b.sample.successfulCosts, confidence, 'completed jobs', true),
    meanTest('rating', 'higher', a.sample.ratings, b.sample.ratings, confidence, 'ratings of model-served answers', false),
  ];
  return untested.map((t) => ({ ...t, winner: winnerOf(t, t.p_value, a.name, b.name) }));
}
