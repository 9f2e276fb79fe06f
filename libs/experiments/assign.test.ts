import { describe, expect, test } from 'vitest';
import type { Experiment } from '../config/types.ts';
import { assignVariant, bucketOf } from './assign.ts';

const experiment: Experiment = {
  feature: 'f',
  status: 'running',
  unit: 'user_id',
  salt: 'salt-1',
  variants: [
    { name: 'a', provider: 'openai', model: 'gpt-4', weight: 50 },
    { name: 'b', provider: 'anthropic', model: 'claude', weight: 50 },
  ],
  overrides: [{ match: { sector: 'healthcare' }, weights: { a: 0, b: 1 } }],
};

describe('assignVariant', () => {
  test('is sticky per user', () => {
    for (let i = 0; i < 50; i++) expect(assignVariant(experiment, `u${i}`).name).toBe(assignVariant(experiment, `u${i}`).name);
  });

  test('splits close to the weights', () => {
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++) counts[assignVariant(experiment, `user-${i}`).name as 'a' | 'b']++;
    expect(counts.a / 10_000).toBeGreaterThan(0.47);
    expect(counts.a / 10_000).toBeLessThan(0.53);
  });

  test('honours a 90/10 split and zero weights', () => {
    const skewed = { ...experiment, variants: [{ ...experiment.variants[0]!, weight: 90 }, { ...experiment.variants[1]!, weight: 10 }] };
    let a = 0;
    for (let i = 0; i < 10_000; i++) if (assignVariant(skewed, `x${i}`).name === 'a') a++;
    expect(a / 10_000).toBeGreaterThan(0.88);
    expect(a / 10_000).toBeLessThan(0.92);
  });

  test('applies the first matching category override', () => {
    for (let i = 0; i < 100; i++) expect(assignVariant(experiment, `u${i}`, { sector: 'healthcare' }).name).toBe('b');
  });

  test('a paused experiment serves the first variant', () => {
    expect(assignVariant({ ...experiment, status: 'paused' }, 'anyone').name).toBe('a');
  });

  test('different salts assign independently', () => {
    expect(bucketOf('s1', 'u')).not.toBe(bucketOf('s2', 'u'));
    expect(bucketOf('s1', 'u')).toBeGreaterThanOrEqual(0);
    expect(bucketOf('s1', 'u')).toBeLessThan(1);
  });
});
