/**
 * The admission script (libs/resilience/admit-4.lua) on the real Redis: a provider's breaker and
 * its rate limit asked in one round trip, the breaker first, neither resource leaking when the
 * other one says no; and the same keys as the two scripts it replaces, so old and new processes
 * share one breaker and one limit.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import type { BreakerSettings } from '../../libs/config/types.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { SharedBreaker, type BreakerGate, type BreakerPermit } from '../../libs/resilience/sharedBreaker.ts';
import { callWithResilience } from '../../libs/resilience/callPolicy.ts';
import { familyTag } from '../../libs/redis/keys.ts';

const kit = redisKit('admission');
const settings: BreakerSettings = { consecutive_failures: 1, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
const TRIAL_TTL = 5_000;
const TOKENS = 500;
const provider = 'openai';

let redis: Redis;
let clock: number;
let prefix: string;
let breaker: SharedBreaker;
let limiter: RateLimiter;
let gate: BreakerGate;

beforeAll(() => {
  redis = kit.connect();
});
afterAll(() => kit.cleanup());

beforeEach(() => {
  clock = Date.parse('2036-11-25T12:00:00Z');
  prefix = kit.freshPrefix();
  breaker = new SharedBreaker(redis, prefix, () => clock);
  limiter = new RateLimiter(redis, prefix, () => clock, 0);
  gate = { breaker, settings, trialTtlMs: TRIAL_TTL };
});

/** What the provider's rate limit has admitted in its window: requests and tokens. */
async function spent(): Promise<{ requests: number; tokens: number }> {
  const key = familyTag(prefix, `rl:${provider}`);
  return { requests: await redis.zcard(`${key}:rpm`), tokens: Number((await redis.get(`${key}:tpm:sum`)) ?? 0) };
}

async function openBreaker(): Promise<void> {
  const permit = await breaker.acquire(provider, settings, TRIAL_TTL);
  expect(await breaker.record(permit, 'failure')).toBe('open');
}

const limits = (rpm: number) => ({ rpm, tpm: 100_000 });

describe('admission: breaker, then rate limit, in one round trip', () => {
  test('both allow: the permit and the allowance are granted together', async () => {
    expect(await limiter.acquireProvider(provider, limits(10), TOKENS, gate)).toEqual({
      ok: true,
      permit: { allowed: true, provider, state: 'closed', isTrial: false, trialId: 0, settings },
    });
    expect(await spent()).toEqual({ requests: 1, tokens: TOKENS });
    // A closed breaker writes nothing.
    expect(await redis.exists(breaker.key(provider))).toBe(0);
  });

  test('breaker open: refused at once, and no allowance is spent', async () => {
    await openBreaker();
    expect(await limiter.acquireProvider(provider, limits(10), TOKENS, gate)).toEqual({
      ok: true,
      permit: { allowed: false, provider, state: 'open', retryAtMs: clock + settings.half_open_after_ms },
    });
    expect(await spent()).toEqual({ requests: 0, tokens: 0 });
  });

  test('a half-open trial out elsewhere: refused, and no allowance is spent', async () => {
    await openBreaker();
    clock += settings.half_open_after_ms;
    const trial = await breaker.acquire(provider, settings, TRIAL_TTL);
    expect(trial).toMatchObject({ allowed: true, isTrial: true });
    expect(await limiter.acquireProvider(provider, limits(10), TOKENS, gate)).toMatchObject({ ok: true, permit: { allowed: false, state: 'half_open', retryAtMs: clock + TRIAL_TTL } });
    expect(await spent()).toEqual({ requests: 0, tokens: 0 });
  });

  test('rate limited while the breaker is due for a trial: the wait is answered and the trial is not taken', async () => {
    const transitions: string[] = [];
    breaker.onTransition((_p, from, to) => transitions.push(`${from}->${to}`));
    // The window's one request is spent, then the breaker opens and its open period ends.
    expect(await limiter.acquireProvider(provider, limits(1), TOKENS)).toEqual({ ok: true });
    await openBreaker();
    clock += settings.half_open_after_ms;
    const before = await redis.hgetall(breaker.key(provider));

    expect(await limiter.acquireProvider(provider, limits(1), TOKENS, gate)).toEqual({ ok: false, waitMs: 60_000 - settings.half_open_after_ms });
    expect(await redis.hgetall(breaker.key(provider))).toEqual(before);
    expect(await spent()).toEqual({ requests: 1, tokens: TOKENS });
    expect(transitions).toEqual(['closed->open']);
    // Not leaked: another process takes the trial at once.
    const other = new SharedBreaker(kit.connect(), prefix, () => clock);
    expect(await other.acquire(provider, settings, TRIAL_TTL)).toMatchObject({ allowed: true, isTrial: true, state: 'half_open' });
  });

  test('both allow a half-open breaker: the trial is taken with the allowance, and its success closes the breaker', async () => {
    await openBreaker();
    clock += settings.half_open_after_ms;
    const admitted = await limiter.acquireProvider(provider, limits(10), TOKENS, gate);
    expect(admitted).toMatchObject({ ok: true, permit: { allowed: true, isTrial: true, state: 'half_open' } });
    expect(await spent()).toEqual({ requests: 1, tokens: TOKENS });
    // One trial at a time: the next admission is refused and spends nothing.
    expect(await limiter.acquireProvider(provider, limits(10), TOKENS, gate)).toMatchObject({ ok: true, permit: { allowed: false, state: 'half_open' } });
    expect(await spent()).toEqual({ requests: 1, tokens: TOKENS });
    expect(await breaker.record((admitted as { permit: BreakerPermit }).permit, 'success')).toBe('closed');
  });

  test('processes on the two older scripts share the limit and the breaker with the admission script', async () => {
    const results = [];
    for (const withGate of [false, true, false, true]) results.push((await limiter.acquireProvider(provider, limits(2), TOKENS, withGate ? gate : undefined)).ok);
    expect(results).toEqual([true, true, false, false]);
    clock += 60_000;
    await openBreaker();
    expect(await limiter.acquireProvider(provider, limits(2), TOKENS, gate)).toMatchObject({ ok: true, permit: { allowed: false, state: 'open' } });
  });

  test('a call through the policy: one admission, and its success lands without being awaited', async () => {
    await openBreaker();
    clock += settings.half_open_after_ms;
    const providerSettings = {
      kind: 'openai' as const,
      base_url: 'http://127.0.0.1:1/v1',
      api_key_env: 'OPENAI_API_KEY',
      timeout_ms: 4_000,
      models: {},
      retry: { max_retries: 0, initial_delay_ms: 1, max_delay_ms: 1, max_retry_after_ms: 1 },
      breaker: settings,
    };
    const beforeTry = async (g: BreakerGate) => {
      const granted = await limiter.acquireProvider(provider, limits(10), TOKENS, g);
      return granted.ok ? granted.permit : undefined;
    };
    expect(await callWithResilience(provider, providerSettings, breaker, async () => 'answer', { beforeTry, now: () => clock })).toBe('answer');
    await breaker.drain();
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(await spent()).toEqual({ requests: 1, tokens: TOKENS });
  });
});
