/** The statistics behind the experiment report: intervals, tests, corrections, power and the verdict. */
export { bootstrapMean, bootstrapQuantile, DEFAULT_MAX_BOOTSTRAP_N, quantileSorted, type BootstrapInterval, type BootstrapOptions } from './bootstrap.ts';
export { normalMeanInterval, orderStatisticInterval } from './largeSample.ts';
export { adjustPValues, benjaminiHochbergAdjust, holmAdjust, type Correction } from './corrections.ts';
export { chiSquareUpper, normalCdf, normalQuantile, tCdf, tQuantile } from './distributions.ts';
export { STATS_INVALID_INPUT } from './errors.ts';
export { fisherExact, type TwoByTwo } from './fisher.ts';
export { mannWhitneyU, mannWhitneyUSorted, type MannWhitneyOptions, type MannWhitneyResult } from './mannWhitney.ts';
export { additionalNeeded, cohensDFromDifference, cohensH, sampleSizeFromH, sampleSizeMannWhitney, sampleSizeMeans, sampleSizeProportions, tTestPower, type PowerOptions } from './power.ts';
export { wilsonInterval, type ProportionInterval } from './proportion.ts';
export { seededRng, type Rng } from './rng.ts';
export { chiSquareGoodnessOfFit, sampleRatioMismatch, sharesFromWeights, SRM_ALPHA, type GoodnessOfFit, type SrmResult, type SrmSegment } from './srm.ts';
export { compareProportions, MIN_EXPECTED_FOR_Z, newcombeDifference, twoProportionZTest, type Counts, type ProportionComparison } from './twoProportions.ts';
export { confidenceOf, describe, formatP, formatValue, verdict, type Confidence, type Finding, type MetricComparison, type MetricUnit, type Verdict, type VerdictOptions } from './verdict.ts';
export { summarize, welchTTest, type SampleSummary, type WelchResult } from './welch.ts';
