import { describe, expect, test } from 'vitest';
import { RateLimiter, rateLimitedError } from './rateLimiter.ts';
import type { RedisClient } from '../redis/client.ts';
import type { BreakerGate, BreakerPermit } from '../resilience/sharedBreaker.ts';

describe('rateLimitedError', () => {
  test('answers 429 rate_limited with Retry-After in whole seconds, at least 1', () => {
    expect([rateLimitedError(1).retryAfterSeconds, rateLimitedError(1000).retryAfterSeconds, rateLimitedError(1001).retryAfterSeconds]).toEqual([1, 1, 2]);
    expect([rateLimitedError(5).code, rateLimitedError(5).status]).toEqual(['rate_limited', 429]);
  });
});

describe('acquireProvider with a breaker gate', () => {
  const settings = { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
  const closed: BreakerPermit = { allowed: true, provider: 'openai', state: 'closed', isTrial: false, trialId: 0, settings };
  const trial: BreakerPermit = { allowed: true, provider: 'openai', state: 'half_open', isTrial: true, trialId: 7, settings };
  const open: BreakerPermit = { allowed: false, provider: 'openai', state: 'open', retryAtMs: 5 };

  /** A limiter on a fake connection: the rate script answers `rateWait`; the gate's breaker answers `permit` and logs what it was asked. */
  function harness(options: { cluster: boolean; permit: BreakerPermit; rateWait: number; recordFails?: boolean; rateFails?: boolean }) {
    const steps: string[] = [];
    const redis = {
      isCluster: options.cluster,
      defineCommand: () => {},
      gatewayRateAcquire1: async () => 0,
      gatewayRateAcquire3: async () => {
        steps.push('rate');
        if (options.rateFails) throw new Error('redis down');
        return options.rateWait;
      },
    } as unknown as RedisClient;
    const breaker: BreakerGate['breaker'] = {
      acquire: async () => (steps.push('acquire'), options.permit),
      admit: async () => (steps.push('admit'), options.rateWait > 0 && options.permit.allowed ? { kind: 'wait', waitMs: options.rateWait } : { kind: 'permit', permit: options.permit }),
      record: async (_permit, outcome) => {
        steps.push(`record:${outcome}`);
        if (options.recordFails) throw new Error('redis down');
        return 'half_open';
      },
    };
    const limiter = new RateLimiter(redis, '{t}', () => 1000, 0);
    return { steps, run: () => limiter.acquireProvider('openai', { rpm: 10, tpm: 10_000 }, 100, { breaker, settings, trialTtlMs: 5000 }) };
  }

  test.each([
    ['single server: one admission script', { cluster: false, permit: closed, rateWait: 0 }, { ok: true, permit: closed }, ['admit']],
    ['single server, rate limited', { cluster: false, permit: trial, rateWait: 400 }, { ok: false, waitMs: 400 }, ['admit']],
    ['cluster, both allow', { cluster: true, permit: closed, rateWait: 0 }, { ok: true, permit: closed }, ['acquire', 'rate']],
    ['cluster, breaker refuses: the rate limit is not asked', { cluster: true, permit: open, rateWait: 0 }, { ok: true, permit: open }, ['acquire']],
    ['cluster, rate limited: a closed permit needs nothing back', { cluster: true, permit: closed, rateWait: 400 }, { ok: false, waitMs: 400 }, ['acquire', 'rate']],
    ['cluster, rate limited: the trial is handed back', { cluster: true, permit: trial, rateWait: 400 }, { ok: false, waitMs: 400 }, ['acquire', 'rate', 'record:ignore']],
    ['cluster, rate limited, the hand-back fails: still the wait (the token expires)', { cluster: true, permit: trial, rateWait: 400, recordFails: true }, { ok: false, waitMs: 400 }, ['acquire', 'rate', 'record:ignore']],
  ])('%s', async (_name, options, expected, steps) => {
    const h = harness(options);
    expect(await h.run()).toEqual(expected);
    expect(h.steps).toEqual(steps);
  });

  test('cluster, the rate limit fails after the breaker granted a trial: the trial is handed back and the error goes on', async () => {
    const h = harness({ cluster: true, permit: trial, rateWait: 0, rateFails: true });
    await expect(h.run()).rejects.toThrow('redis down');
    expect(h.steps).toEqual(['acquire', 'rate', 'record:ignore']);
  });
});
