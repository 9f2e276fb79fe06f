import { describe, expect, test } from 'vitest';
import type { JobRecord } from '../../store/types.ts';
import { finishedSample } from './sink.ts';

const base = {
  id: 'j1',
  feature: 'career_path_navigator',
  status: 'completed',
  experiment: { id: 'exp', variant: 'gpt4' },
  provider: 'openai',
  model: 'gpt-4o',
  usage: { input_tokens: 500, output_tokens: 300 },
  cost_usd: 0.004321,
  served_by: 'provider',
  cache: 'miss',
  latency_ms: { queue: 20, provider: 1500, total: 1600 },
} as unknown as JobRecord;

describe('finishedSample', () => {
  test('a model-served answer: labels, three phases, tokens and cost', () => {
    expect(finishedSample(base)).toEqual({
      labels: { feature: 'career_path_navigator', status: 'completed', served_by: 'provider', provider: 'openai', model: 'gpt-4o', variant: 'gpt4', lane: 'realtime' },
      seconds: { queue: 0.02, total: 1.6, provider: 1.5 },
      tokens: { input: 500, output: 300 },
      costUsd: 0.004321,
    });
  });

  test('a cache hit: no provider phase, no tokens, no cost', () => {
    const sample = finishedSample({ ...base, served_by: 'cache', cache: 'hit', cost_usd: 0, latency_ms: { queue: 5, provider: 0, total: 8 } });
    expect(sample.labels.served_by).toBe('cache');
    expect(sample.seconds).toEqual({ queue: 0.005, total: 0.008 });
    expect(sample.tokens).toBeUndefined();
    expect(sample.costUsd).toBeUndefined();
  });

  test('a rejected job: empty labels where nothing is known', () => {
    const sample = finishedSample({ ...base, status: 'rejected', served_by: null, provider: null, model: null, usage: null, cost_usd: null, experiment: null });
    expect(sample.labels).toEqual({ feature: 'career_path_navigator', status: 'rejected', served_by: '', provider: '', model: '', variant: '', lane: 'realtime' });
    expect(sample.tokens).toBeUndefined();
  });
});
