import { describe, expect, test } from 'vitest';
import { checkReadiness } from './health.ts';

const never = () => new Promise<boolean>(() => undefined);

describe('checkReadiness', () => {
  test.each<[string, Record<string, () => Promise<boolean>>, boolean, Record<string, string>]>([
    ['all answer', { redis: async () => true, store: async () => true }, true, { redis: 'ok', store: 'ok' }],
    ['Redis stalls', { redis: never, store: async () => true }, false, { redis: 'timeout', store: 'ok' }],
    ['the store throws', { redis: async () => true, store: () => Promise.reject(new Error('locked')) }, false, { redis: 'ok', store: 'failed' }],
    ['the store says no', { redis: async () => true, store: async () => false }, false, { redis: 'ok', store: 'failed' }],
    ['a check that throws synchronously', { redis: () => { throw new Error('x'); }, store: async () => true }, false, { redis: 'failed', store: 'ok' }],
  ])('%s', async (_name, checks, ready, states) => {
    const started = Date.now();
    expect(await checkReadiness(checks, 50)).toEqual({ ready, checks: states });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
