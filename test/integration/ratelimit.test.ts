import type { Redis } from 'ioredis';
import { redisKit, seededInts } from '../helpers/redisKit.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isGatewayError } from '../../libs/errors/index.ts';
import { PROVIDER_WINDOW_SLACK_MS, RateLimiter, type AcquireResult } from '../../libs/ratelimit/rateLimiter.ts';

const kit = redisKit('rl');
const { connect, freshPrefix } = kit;

const T0 = Date.parse('2036-11-25T12:00:00Z');

let redis: Redis;
beforeAll(() => {
  redis = connect();
});

afterAll(() => kit.cleanup());

const admitted = (results: AcquireResult[]): number => results.filter((r) => r.ok).length;

describe('RateLimiter', () => {
  test('1,000 calls at 600 RPM within one fake minute from 3 workers admit exactly 600', async () => {
    let now = T0;
    const prefix = freshPrefix();
    const workers = [0, 1, 2].map(() => new RateLimiter(connect(), prefix, () => now, 0));
    const limits = { rpm: 600, tpm: 10_000_000 };
    const results: AcquireResult[] = [];
    // 10 bursts of 100 concurrent calls, 5.9 s apart: all inside 60 s.
    for (let burst = 0; burst < 10; burst++) {
      now = T0 + burst * 5_900;
      results.push(...(await Promise.all(Array.from({ length: 100 }, (_, i) => workers[i % 3]!.acquireProvider('openai', limits, 500)))));
    }
    expect(admitted(results)).toBe(600);
    expect(results.slice(0, 600).every((r) => r.ok)).toBe(true);
    // Refused at T0 + k * 5.9 s, each waits for the first burst (at T0) to leave at T0 + 60 s.
    expect(results.slice(600)).toEqual(Array.from({ length: 400 }, (_, i) => ({ ok: false, waitMs: 60_000 - (6 + Math.floor(i / 100)) * 5_900 })));

    now = T0 + 60_000 - 1;
    expect(await workers[0]!.acquireProvider('openai', limits, 500)).toEqual({ ok: false, waitMs: 1 });
    now = T0 + 60_000;
    const next = await Promise.all(Array.from({ length: 150 }, (_, i) => workers[i % 3]!.acquireProvider('openai', limits, 500)));
    expect(admitted(next)).toBe(100);
  });

  test('no 60 s sliding window ever admits more than the limit', async () => {
    let now = T0;
    const prefix = freshPrefix();
    const workers = [0, 1, 2, 3].map(() => new RateLimiter(connect(), prefix, () => now, 0));
    const rand = seededInts(7);
    const times: number[] = [];
    // About 4 fake minutes of bursty demand at roughly twice the limit.
    while (now < T0 + 240_000) {
      const burst = 1 + rand(20);
      const results = await Promise.all(Array.from({ length: burst }, (_, i) => workers[i % 4]!.acquireClient('client-a', 600)));
      for (const r of results) if (r.ok) times.push(now);
      now += rand(2 * (60_000 / 1_200) * 10) + 1;
    }
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j]! <= times[i]! - 60_000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBe(600);
    // It admits up to the limit, not fewer: the busiest window is full.
    expect(times.length).toBeGreaterThan(1_200);
  });

  test('provider admissions count for the minute plus the default slack, clients for the minute', async () => {
    let now = T0;
    const limiter = new RateLimiter(redis, freshPrefix(), () => now);
    expect(await limiter.acquireProvider('p', { rpm: 1, tpm: 1_000_000 }, 10)).toEqual({ ok: true });
    expect(await limiter.acquireClient('c', 1)).toEqual({ ok: true });
    now += 60_000;
    expect(await limiter.acquireProvider('p', { rpm: 1, tpm: 1_000_000 }, 10)).toEqual({ ok: false, waitMs: PROVIDER_WINDOW_SLACK_MS });
    expect(await limiter.acquireClient('c', 1)).toEqual({ ok: true });
    now += PROVIDER_WINDOW_SLACK_MS;
    expect(await limiter.acquireProvider('p', { rpm: 1, tpm: 1_000_000 }, 10)).toEqual({ ok: true });
  });

  test('a refused call admits once it has waited waitMs', async () => {
    let now = T0;
    const limiter = new RateLimiter(redis, freshPrefix(), () => now, 0);
    for (let i = 0; i < 3; i++) {
      expect(await limiter.acquireClient('c', 3)).toEqual({ ok: true });
      now += 10_000;
    }
    const refused = await limiter.acquireClient('c', 3);
    expect(refused).toEqual({ ok: false, waitMs: 30_000 });
    now += 30_000 - 1;
    expect((await limiter.acquireClient('c', 3)).ok).toBe(false);
    now += 1;
    expect(await limiter.acquireClient('c', 3)).toEqual({ ok: true });
    // Clients are limited separately.
    expect(await limiter.acquireClient('other', 3)).toEqual({ ok: true });
  });

  test('tokens per minute: a call waits until enough tokens have left the window', async () => {
    let now = T0;
    const limiter = new RateLimiter(redis, freshPrefix(), () => now, 0);
    const limits = { rpm: 100, tpm: 1_000 };
    expect(await limiter.acquireProvider('anthropic', limits, 300)).toEqual({ ok: true });
    now += 1_000;
    expect(await limiter.acquireProvider('anthropic', limits, 300)).toEqual({ ok: true });
    now += 1_000;
    expect(await limiter.acquireProvider('anthropic', limits, 300)).toEqual({ ok: true });
    now += 1_000;
    // 900 used: 100 more fits, 300 needs the first call (at T0) to leave, 700 the first two.
    expect(await limiter.acquireProvider('anthropic', limits, 300)).toEqual({ ok: false, waitMs: 57_000 });
    expect(await limiter.acquireProvider('anthropic', limits, 700)).toEqual({ ok: false, waitMs: 58_000 });
    expect(await limiter.acquireProvider('anthropic', limits, 100)).toEqual({ ok: true });
    now = T0 + 60_000;
    expect(await limiter.acquireProvider('anthropic', limits, 300)).toEqual({ ok: true });
    // Both limits must admit: 1 RPM refuses though tokens remain.
    expect(await limiter.acquireProvider('openai', { rpm: 1, tpm: 1_000 }, 1)).toEqual({ ok: true });
    expect(await limiter.acquireProvider('openai', { rpm: 1, tpm: 1_000 }, 1)).toEqual({ ok: false, waitMs: 60_000 });
    await expect(limiter.acquireProvider('openai', { rpm: 10, tpm: 1_000 }, 1_001)).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'rate_limit_request_too_large');
  });

  test('a call that reaches Redis late counts at the newest recorded time', async () => {
    let now = T0;
    const prefix = freshPrefix();
    const limiter = new RateLimiter(redis, prefix, () => now, 0);
    await limiter.acquireClient('late', 10);
    now = T0 - 5_000;
    await limiter.acquireClient('late', 10);
    const scores = await redis.zrange(`${prefix.slice(0, -1)}:rl:client:late}`, '0', '-1', 'WITHSCORES');
    expect([scores[1], scores[3]]).toEqual([String(T0), String(T0)]);
  });

  test('a log holds at most the limit and expires one to two minutes after its last admission', async () => {
    let now = T0;
    const prefix = freshPrefix();
    const limiter = new RateLimiter(redis, prefix, () => now, 0);
    for (let i = 0; i < 50; i++) {
      await limiter.acquireProvider('p', { rpm: 20, tpm: 1_000_000 }, 10);
      now += 10;
    }
    expect(await redis.zcard(`${prefix.slice(0, -1)}:rl:p}:rpm`)).toBe(20);
    expect(await redis.zcard(`${prefix.slice(0, -1)}:rl:p}:tpm`)).toBe(20);
    expect(await redis.get(`${prefix.slice(0, -1)}:rl:p}:tpm:sum`)).toBe('200');
    const ttl = await redis.pttl(`${prefix.slice(0, -1)}:rl:p}:rpm`);
    // Set by the first admission of the minute-aligned period, for two minutes (providerLimit.lua).
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });
});
