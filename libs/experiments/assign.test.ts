import { describe, expect, test } from 'vitest';
import type { Experiment } from '../config/types.ts';
import { assign, assignVariant, bucketOf } from './assign.ts';

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

describe('assign: schedule and holdout', () => {
  const at = new Date('2026-11-15T12:00:00Z');
  const scheduled: Experiment = { ...experiment, starts_at: '2026-11-01T00:00:00Z', ends_at: '2026-12-01T00:00:00Z' };
  const anyB = (e: Experiment, when: Date) => Array.from({ length: 200 }, (_, i) => assign(e, `u${i}`, {}, when)).find((r) => r.variant.name === 'b');

  test.each([
    ['before the start', new Date('2026-10-31T23:59:59Z'), 'not_started'],
    ['at the end (exclusive)', new Date('2026-12-01T00:00:00Z'), 'ended'],
    ['after the end', new Date('2027-01-01T00:00:00Z'), 'ended'],
  ] as const)('%s: the control for everyone, outside the experiment', (_name, when, reason) => {
    for (let i = 0; i < 50; i++) expect(assign(scheduled, `u${i}`, {}, when)).toEqual({ variant: experiment.variants[0], reason, inExperiment: false });
  });

  test('at the start (inclusive) and inside the window: assigned by weight', () => {
    expect(anyB(scheduled, new Date('2026-11-01T00:00:00Z'))).toMatchObject({ reason: 'assigned', inExperiment: true });
    expect(assign(scheduled, 'u1', {}, at)).toEqual(assign(experiment, 'u1', {}, at));
  });

  test('a paused experiment serves the control outside the comparison', () => {
    expect(assign({ ...experiment, status: 'paused' }, 'u1', {}, at)).toMatchObject({ variant: { name: 'a' }, reason: 'paused', inExperiment: false });
  });

  test('a 20% holdout keeps about a fifth of the users on the control, sticky, and the rest keep their weights', () => {
    const held = { ...experiment, holdout: 0.2 };
    const n = 10_000;
    let out = 0;
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < n; i++) {
      const r = assign(held, `user-${i}`, {}, at);
      expect(assign(held, `user-${i}`, {}, at)).toEqual(r);
      if (r.reason === 'holdout') {
        out++;
        expect(r).toMatchObject({ variant: { name: 'a' }, inExperiment: false });
      } else counts[r.variant.name as 'a' | 'b']++;
    }
    expect(out / n).toBeGreaterThan(0.18);
    expect(out / n).toBeLessThan(0.22);
    // The holdout bucket is hashed apart from the variant bucket: the others still split 50/50.
    expect(counts.a / (n - out)).toBeGreaterThan(0.47);
    expect(counts.a / (n - out)).toBeLessThan(0.53);
  });

  test('without a time, assignVariant ignores the schedule (as before); with one it honours it', () => {
    expect(anyB(scheduled, at)).toBeDefined();
    expect(assignVariant(scheduled, 'u1', {}, new Date('2027-01-01T00:00:00Z')).name).toBe('a');
  });
});
