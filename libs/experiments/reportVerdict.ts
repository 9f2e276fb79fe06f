/**
 * The report's verdict in plain words: the statistics library's verdict over the first
 * comparison's tests, led by a warning when the units are not split as configured (then every
 * difference may come from a broken assignment rather than from the variants).
 */
import { verdict, type MetricComparison, type Verdict } from '../stats/index.ts';
import type { Comparison, MetricTest, SampleRatioCheck } from './reportTypes.ts';

/** How each metric reads in a sentence. */
const WORDING: Record<string, Pick<MetricComparison, 'metric' | 'winnerPhrase' | 'unit'> & { sampleNoun?: 'jobs' | 'ratings' }> = {
  provider_latency_ms: { metric: 'median provider latency', winnerPhrase: 'faster (median provider latency)', unit: 'ms' },
  error_rate: { metric: 'error rate', winnerPhrase: 'more reliable (lower error rate)', unit: 'rate' },
  cost_per_job_usd: { metric: 'cost per job', winnerPhrase: 'cheaper per job', unit: 'usd' },
  cost_per_successful_job_usd: { metric: 'cost per successful job', winnerPhrase: 'cheaper per successful job', unit: 'usd' },
  rating: { metric: 'rating', winnerPhrase: 'rated higher', unit: 'points', sampleNoun: 'ratings' },
};

/** A MetricTest as the verdict reads it. */
export function asMetricComparison(test: MetricTest, confidence: number): MetricComparison {
  const wording = WORDING[test.metric] ?? { metric: test.metric, winnerPhrase: `better on ${test.metric}`, unit: 'points' };
  return {
    ...wording,
    better: test.better,
    difference: test.difference,
    lower: test.lower,
    upper: test.upper,
    confidence,
    pValue: test.p_value,
    additionalNeeded: test.additional_needed,
  };
}

/** Sentence that leads the verdict when the sample-ratio check fails. */
export const MISMATCH_WARNING =
  'Warning: units are not split between the arms as configured (sample-ratio mismatch), so the differences below may come from a broken assignment or missing records rather than from the variants; find the cause before acting on them.';

/** The verdict over `comparison` (null when there is nothing to compare), with the mismatch warning first when it applies. */
export function reportVerdict(comparison: Comparison | undefined, sampleRatio: SampleRatioCheck, confidence: number): Verdict {
  const base = comparison ? verdict(comparison.a, comparison.b, comparison.tests.map((t) => asMetricComparison(t, confidence))) : verdict('', '', []);
  if (!sampleRatio.mismatch) return base;
  return { findings: base.findings, text: `${MISMATCH_WARNING} ${base.text}` };
}
