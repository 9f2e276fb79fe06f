import { describe, expect, test } from 'vitest';
import type { RedisClient } from '../redis/client.ts';
import { SharedBreaker, type BreakerPermit } from './sharedBreaker.ts';

const settings = { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
const permit: BreakerPermit = { allowed: true, provider: 'openai', state: 'closed', isTrial: false, trialId: 0, settings };

/** A breaker on a fake connection whose records answer when the test resolves or rejects them. */
function harness() {
  const replies: Array<{ resolve: (r: [string, string]) => void; reject: (e: unknown) => void }> = [];
  const redis = {
    defineCommand: () => {},
    breakerRecord: () => new Promise((resolve, reject) => replies.push({ resolve, reject })),
  } as unknown as RedisClient;
  return { breaker: new SharedBreaker(redis, '{t}'), replies };
}

describe('SharedBreaker records in flight', () => {
  test('drain waits for every record sent, answered or failed', async () => {
    const { breaker, replies } = harness();
    const first = breaker.record(permit, 'success');
    const second = breaker.record(permit, 'success').catch(() => 'failed');
    let drained = false;
    const drain = breaker.drain().then(() => (drained = true));
    replies[0]!.resolve(['closed', 'closed']);
    await first;
    expect(drained).toBe(false);
    replies[1]!.reject(new Error('redis down'));
    await drain;
    expect(await second).toBe('failed');
    // Nothing left: a second drain answers at once.
    await breaker.drain();
  });

  test('a failed record is told to the listeners and still thrown to the caller', async () => {
    const { breaker, replies } = harness();
    const heard: Array<[string, unknown]> = [];
    breaker.onRecordError((provider, err) => heard.push([provider, err]));
    breaker.onRecordError(() => {
      throw new Error('a broken log hook');
    });
    const record = breaker.record(permit, 'failure');
    replies[0]!.reject(new Error('redis down'));
    await expect(record).rejects.toThrow('redis down');
    expect(heard).toEqual([['openai', new Error('redis down')]]);
  });

  test('a refused permit records nothing', async () => {
    const { breaker, replies } = harness();
    expect(await breaker.record({ allowed: false, provider: 'openai', state: 'open', retryAtMs: 1 }, 'success')).toBe('open');
    expect(replies).toEqual([]);
  });
});
