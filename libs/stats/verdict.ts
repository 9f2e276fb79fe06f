/**
 * The verdict in plain words: one sentence per compared metric, saying which variant wins, by
 * how much (with the interval), how sure we are, or how much more data a decision needs.
 * Pure formatting of results computed elsewhere; no statistics happen here.
 */

/** How a metric's values read. `rate` is a fraction shown in percentage points. */
export type MetricUnit = 'usd' | 'ms' | 'rate' | 'points';

/** One metric compared between variants a and b (difference = a − b). */
export interface MetricComparison {
  /** Noun phrase for the metric, e.g. "error rate", "cost per successful job". */
  metric: string;
  /** Words after "<winner> is", e.g. "cheaper per successful job", "faster (p50 latency)". */
  winnerPhrase: string;
  unit: MetricUnit;
  /** Which direction is better for this metric. */
  better: 'lower' | 'higher';
  /** a − b, in the unit; null when it could not be computed. */
  difference: number | null;
  lower: number | null;
  upper: number | null;
  /** Confidence level of the interval. @defaultValue 0.95 */
  confidence?: number;
  /** Two-sided p-value (already corrected for multiple comparisons where that applies); null when not computed. */
  pValue: number | null;
  /** More observations per variant a decision needs at the target power; null when unknown. */
  additionalNeeded?: number | null;
  /** What the observations are. @defaultValue 'jobs' */
  sampleNoun?: 'jobs' | 'ratings';
}

/** How sure a significant finding is, from its p-value. */
export type Confidence = 'high' | 'good' | 'moderate';

/** The outcome for one metric. */
export interface Finding {
  metric: string;
  /** The winning variant's name, or null when no difference was detected. */
  winner: string | null;
  confidence: Confidence | null;
  sentence: string;
}

/** The whole verdict. */
export interface Verdict {
  findings: Finding[];
  /** All sentences as one paragraph. */
  text: string;
}

/** Verdict settings. */
export interface VerdictOptions {
  /** Significance level. @defaultValue 0.05 */
  alpha?: number;
  /** Power the "need ~N more" advice targets, as a percentage, for the wording. @defaultValue 80 */
  powerPercent?: number;
}

/** A value in the metric's unit, for people (`$0.012`, `340 ms`, `1.5 pp`, `0.42`). */
export function formatValue(value: number, unit: MetricUnit): string {
  const sign = value < 0 ? '−' : '';
  const v = Math.abs(value);
  switch (unit) {
    case 'usd':
      return `${sign}$${v >= 1 ? v.toFixed(2) : Number(v.toPrecision(2)).toString()}`;
    case 'ms':
      return `${sign}${v >= 10 ? Math.round(v) : Number(v.toPrecision(2))} ms`;
    case 'rate':
      return `${sign}${Number((v * 100).toPrecision(2))} pp`;
    case 'points':
      return `${sign}${Number(v.toPrecision(2))}`;
  }
}

/** A p-value as reported: "p < 0.001" or "p = 0.012". */
export function formatP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${Number(p.toPrecision(2))}`;
}

/** Confidence word for a significant p-value. */
export function confidenceOf(p: number): Confidence {
  return p < 0.001 ? 'high' : p < 0.01 ? 'good' : 'moderate';
}

function interval(c: MetricComparison, magnitude: boolean): string {
  if (c.lower === null || c.upper === null) return '';
  // Shown as the winner's advantage, so the bounds flip sign with the difference.
  const flip = magnitude && (c.difference ?? 0) < 0 ? -1 : 1;
  const [lo, hi] = [c.lower * flip, c.upper * flip].sort((x, y) => x - y);
  return ` (${Math.round((c.confidence ?? 0.95) * 100)}% CI ${formatValue(lo!, c.unit)} to ${formatValue(hi!, c.unit)})`;
}

/** One metric's finding: a winner when p < alpha, otherwise "no detectable difference" and what a decision needs. */
export function describe(c: MetricComparison, a: string, b: string, options: VerdictOptions = {}): Finding {
  const alpha = options.alpha ?? 0.05;
  if (c.difference === null || c.pValue === null) {
    return { metric: c.metric, winner: null, confidence: null, sentence: `not enough data to compare ${c.metric} yet` };
  }
  if (c.pValue < alpha && c.difference !== 0) {
    const aWins = c.better === 'lower' ? c.difference < 0 : c.difference > 0;
    const winner = aWins ? a : b;
    const confidence = confidenceOf(c.pValue);
    const sentence = `${winner} is ${c.winnerPhrase} by ${formatValue(Math.abs(c.difference), c.unit)}${interval(c, true)}, ${formatP(c.pValue)} (${confidence} confidence)`;
    return { metric: c.metric, winner, confidence, sentence };
  }
  let sentence = `no detectable difference in ${c.metric} (${formatP(c.pValue)})`;
  const more = c.additionalNeeded;
  if (more !== undefined && more !== null && more > 0) {
    sentence += `; need ~${more.toLocaleString('en-US')} more ${c.sampleNoun ?? 'jobs'} per variant to decide on ${c.metric} at ${options.powerPercent ?? 80}% power`;
  }
  return { metric: c.metric, winner: null, confidence: null, sentence };
}

/** The verdict over all metrics compared between variants `a` and `b`. */
export function verdict(a: string, b: string, comparisons: readonly MetricComparison[], options: VerdictOptions = {}): Verdict {
  const findings = comparisons.map((c) => describe(c, a, b, options));
  const joined = findings.map((f) => f.sentence).join('; ');
  const text = joined ? `${joined.charAt(0).toUpperCase()}${joined.slice(1)}.` : 'Nothing to compare yet.';
  return { findings, text };
}
