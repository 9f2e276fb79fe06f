import { describe, expect, test } from 'vitest';
import { describe as describeFinding, formatP, formatValue, verdict, type MetricComparison } from './verdict.ts';

const cost: MetricComparison = {
  metric: 'cost per successful job',
  winnerPhrase: 'cheaper per successful job',
  unit: 'usd',
  better: 'lower',
  difference: 0.012, // gpt-4 − claude: gpt-4 dearer
  lower: 0.008,
  upper: 0.016,
  pValue: 0.003,
};
const errors: MetricComparison = {
  metric: 'error rate',
  winnerPhrase: 'more reliable (error rate)',
  unit: 'rate',
  better: 'lower',
  difference: 0.002,
  lower: -0.004,
  upper: 0.008,
  pValue: 0.41,
  additionalNeeded: 0,
};
const rating: MetricComparison = {
  metric: 'quality',
  winnerPhrase: 'rated higher',
  unit: 'points',
  better: 'higher',
  difference: 0.1,
  lower: -0.2,
  upper: 0.4,
  pValue: 0.5,
  additionalNeeded: 1234,
  sampleNoun: 'ratings',
};

describe('verdict', () => {
  test('names the winner with the advantage, its interval and p; says what is undecided and what it needs', () => {
    const v = verdict('gpt-4', 'claude', [cost, errors, rating]);
    expect(v.text).toBe(
      'Claude is cheaper per successful job by $0.012 (95% CI $0.008 to $0.016), p = 0.003 (good confidence); ' +
        'no detectable difference in error rate (p = 0.41); ' +
        'no detectable difference in quality (p = 0.5); need ~1,234 more ratings per variant to decide on quality at 80% power.',
    );
    expect(v.findings.map((f) => f.winner)).toEqual(['claude', null, null]);
    expect(v.findings[0]!.confidence).toBe('good');
  });

  test('higher-is-better metrics pick the larger side', () => {
    const f = describeFinding({ ...rating, pValue: 0.0001, lower: 0.05, upper: 0.15 }, 'gpt-4', 'claude');
    expect(f.winner).toBe('gpt-4');
    expect(f.sentence).toBe('gpt-4 is rated higher by 0.1 (95% CI 0.05 to 0.15), p < 0.001 (high confidence)');
  });

  test('missing data says so', () => {
    expect(describeFinding({ ...cost, pValue: null }, 'a', 'b').sentence).toBe('not enough data to compare cost per successful job yet');
    expect(verdict('a', 'b', []).text).toBe('Nothing to compare yet.');
  });

  test('units read as people expect', () => {
    expect(formatValue(0.0123, 'usd')).toBe('$0.012');
    expect(formatValue(12.345, 'usd')).toBe('$12.35');
    expect(formatValue(-340.4, 'ms')).toBe('−340 ms');
    expect(formatValue(0.015, 'rate')).toBe('1.5 pp');
    expect(formatP(0.0004)).toBe('p < 0.001');
    expect(formatP(0.0456)).toBe('p = 0.046');
  });
});
