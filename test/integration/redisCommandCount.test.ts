/**
 * What the gateway's own Lua scripts cost Redis per job, counted exactly on a private redis-server
 * (INFO commandstats counts the commands a script runs too), so that a change that brings back a
 * per-call read or TTL refresh shows here. Also the bookkeeping that made them cheaper: a budget
 * window's limit, thresholds and expiry are written only when they change, and sums stay exact
 * integers however large.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import type { BreakerSettings } from '../../libs/config/types.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/privateRedis.ts';

const NOW = Date.parse('2036-11-25T12:00:00Z');
const TTL = 60_000;
const limits = (monthlyMicros: number, dailyMicros: number | null = null) => ({ monthlyMicros, dailyMicros });

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.cleanup();
});

/** Commands Redis ran (script-internal ones included) per name, INFO and CONFIG left out. */
async function commandCounts(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] !== 'info' && !m[1]!.startsWith('config')) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Runs `work` and answers the commands it cost, in total and per name. */
async function cost(work: () => Promise<unknown>): Promise<{ total: number; by: Record<string, number> }> {
  const before = await commandCounts();
  await work();
  const after = await commandCounts();
  const by: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) {
      by[name] = d;
      total += d;
    }
  }
  return { total, by };
}

/** A budget whose windows around NOW are seeded with no spend, ready to reserve against. */
async function seededBudget(prefix: string, now: () => number = () => NOW): Promise<BudgetStore> {
  const budget = new BudgetStore(redis, prefix, { now, spend: { spentMicros: async () => 0 } });
  await budget.seedWindows();
  return budget;
}

let n = 0;
const freshPrefix = () => `{cmdcount-${process.pid}-${++n}}`;

describe('Redis commands of the budget', () => {
  test('a reservation and its settle cost 17 commands once the windows hold their limits, with no TTL refresh', async () => {
    const prefix = freshPrefix();
    const budget = await seededBudget(prefix);
    const req = (id: string) => ({ holdId: id, amountMicros: 50_000, limits: limits(5_000_000_000, 200_000_000), ttlMs: TTL });
    // The first reservation of a window writes its limit, thresholds and expiry.
    const first = await cost(() => budget.reserve(req('warm:1')));
    expect(first.by.pexpireat).toBe(2);
    await budget.settle('warm:1', 10_000);

    const reserve = await cost(() => budget.reserve(req('job:1')));
    const settle = await cost(() => budget.settle('job:1', 7_000));
    // EVALSHA + EXISTS, HMGET x2, HINCRBY x2, HSET (hold), ZADD
    expect(reserve).toEqual({ total: 8, by: { evalsha: 1, exists: 1, hmget: 2, hincrby: 2, hset: 1, zadd: 1 } });
    // EVALSHA + HMGET (hold), HMGET + HSET per window, DEL, ZREM, SET (marker)
    expect(settle).toEqual({ total: 9, by: { evalsha: 1, hmget: 3, hset: 2, del: 1, zrem: 1, set: 1 } });
    expect(await budget.snapshot()).toMatchObject({ month: { spent: 17_000, reserved: 0 }, day: { spent: 17_000, reserved: 0 } });
  });

  test('a reload that changes a limit is written to the window at once; a day limit taken away is removed', async () => {
    const prefix = freshPrefix();
    const budget = await seededBudget(prefix);
    const month = `${prefix}:budget:month:2036-11`;
    const day = `${prefix}:budget:day:2036-11-25`;
    await budget.reserve({ holdId: 'a:1', amountMicros: 1_000, limits: limits(5_000_000, 1_000_000), ttlMs: TTL });
    expect(await redis.hmget(day, 'limit', 'th')).toEqual(['1000000', '0.8:800000,0.9:900000,0.95:950000,1:1000000']);
    await budget.reserve({ holdId: 'a:2', amountMicros: 1_000, limits: limits(6_000_000, null), ttlMs: TTL });
    expect(await redis.hget(month, 'limit')).toBe('6000000');
    expect(await redis.hmget(day, 'limit', 'th')).toEqual([null, null]);
    // The settle reads the new thresholds from the window: 80% of 6,000,000 is crossed here.
    await budget.settle('a:1', 4_800_000);
    expect(await redis.smembers(`${prefix}:budget:alerts:month:2036-11`)).toEqual(['0.8']);
  });

  test('each window gets its expiry once, and again after the key lost it', async () => {
    const prefix = freshPrefix();
    const budget = await seededBudget(prefix);
    const month = `${prefix}:budget:month:2036-11`;
    const req = (id: string) => ({ holdId: id, amountMicros: 1_000, limits: limits(5_000_000), ttlMs: TTL });
    await budget.reserve(req('e:1'));
    const expireAt = await redis.pexpiretime(month);
    expect(expireAt).toBeGreaterThan(Date.parse('2036-12-01T00:00:00Z'));
    expect((await cost(() => budget.reserve(req('e:2')))).by.pexpireat).toBeUndefined();
    // Whatever took the TTL away, the field goes with the key's rewrite: a reservation sets both again.
    await redis.persist(month);
    await redis.hdel(month, 'xa');
    await budget.reserve(req('e:3'));
    expect(await redis.pexpiretime(month)).toBe(expireAt);
  });

  test('sums beyond 2^32 micro-dollars stay exact integers that HINCRBY can still add to', async () => {
    const prefix = freshPrefix();
    const budget = await seededBudget(prefix);
    const big = 9_000_000_000_123;
    await budget.reserve({ holdId: 'big:1', amountMicros: big, limits: limits(20_000_000_000_000), ttlMs: TTL });
    await budget.settle('big:1', big - 1);
    await budget.reserve({ holdId: 'big:2', amountMicros: 5, limits: limits(20_000_000_000_000), ttlMs: TTL });
    expect(await redis.hmget(`${prefix}:budget:month:2036-11`, 'spent', 'reserved')).toEqual([String(big - 1), '5']);
  });
});

describe('Redis commands of the shared breaker', () => {
  const settings: BreakerSettings = { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
  const TTL_MS = 3 * 30_000;

  test('a success costs one read and one write; the key gets two TTLs, refreshed once less than one is left', async () => {
    let clock = 1_700_000_000_000;
    const breaker = new SharedBreaker(redis, freshPrefix(), () => clock);
    const success = async () => breaker.record(await breaker.acquire('p', settings, 5_000), 'success');
    await success();
    const key = breaker.key('p');
    expect(await redis.pttl(key)).toBeGreaterThan(TTL_MS - 5_000);
    const recorded = await cost(success);
    // acquire (EVALSHA + HMGET), record (EVALSHA + HMGET + HSET)
    expect(recorded).toEqual({ total: 5, by: { evalsha: 2, hmget: 2, hset: 1 } });
    clock += TTL_MS - 1;
    expect((await cost(success)).by.pexpire).toBeUndefined();
    clock += 2;
    expect((await cost(success)).by.pexpire).toBe(1);
    expect(await redis.hget(key, 'xp')).toBe(String(clock + 2 * TTL_MS));
    expect(await redis.pttl(key)).toBeGreaterThan(2 * TTL_MS - 5_000);
  });

  test('failures less than a TTL apart add up to consecutive_failures even when no call refreshed the TTL between them', async () => {
    // Real time here: the key's expiry is Redis's. TTL = 3 x 300 ms; the second failure comes too
    // soon to refresh it, the third after a TTL from the first (when a key that lived one TTL from
    // its last refresh would be gone) but within a TTL of the second.
    const quick = { ...settings, consecutive_failures: 3, failure_rate: 1, sampling_window_ms: 300, half_open_after_ms: 300 };
    const breaker = new SharedBreaker(redis, freshPrefix(), () => Date.now());
    const fail = async () => breaker.record(await breaker.acquire('p', quick, 5_000), 'failure');
    const started = Date.now();
    expect(await fail()).toBe('closed');
    await sleep(360);
    expect(await fail()).toBe('closed');
    await sleep(Math.max(0, started + 950 - Date.now()));
    expect(await fail()).toBe('open');
  });

  test('a failure still counts the successes of the earlier buckets of its window', async () => {
    let clock = 1_700_000_000_000;
    const breaker = new SharedBreaker(redis, freshPrefix(), () => clock);
    const record = async (outcome: 'success' | 'failure') => breaker.record(await breaker.acquire('p', { ...settings, consecutive_failures: 100 }, 5_000), outcome);
    for (let i = 0; i < 5; i++) await record('success');
    // Later buckets of the same 30 s window: 4 failures of 9 calls, below the minimum throughput.
    clock += 3_000;
    for (let i = 0; i < 4; i++) expect(await record('failure')).toBe('closed');
    clock += 3_000;
    // 5 of 10: the ratio reaches 0.5 only with the first bucket's five successes counted.
    expect(await record('failure')).toBe('open');
  });
});

describe('Redis commands of the rate limits', () => {
  const settings: BreakerSettings = { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
  const T0 = Date.parse('2036-11-25T12:00:00Z');

  test("a provider's admission sets its TTLs on the first admission of each minute only", async () => {
    let clock = T0 + 1_000;
    const prefix = freshPrefix();
    const limiter = new RateLimiter(redis, prefix, () => clock, 0);
    const gate = { breaker: new SharedBreaker(redis, prefix, () => clock), settings, trialTtlMs: 5_000 };
    const admit = () => limiter.acquireProvider('p', { rpm: 1_000, tpm: 1_000_000 }, 10, gate);
    expect((await cost(admit)).by.pexpire).toBe(3);
    clock += 58_000;
    // EVALSHA + the breaker's HMGET + ZRANGE, ZREMRANGEBYSCORE, ZRANGEBYSCORE, ZCARD, GET, ZADD x2, INCRBY
    expect(await cost(admit)).toEqual({ total: 10, by: { evalsha: 1, hmget: 1, zrange: 1, zremrangebyscore: 1, zrangebyscore: 1, zcard: 1, get: 1, zadd: 2, incrby: 1 } });
    clock += 2_000;
    expect((await cost(admit)).by.pexpire).toBe(3);
    const ttl = await redis.pttl(`${prefix.slice(0, -1)}:rl:p}:rpm`);
    expect(ttl).toBeGreaterThan(60_000);
  });

  test("a client's admission sets its TTL on the first admission of each minute only", async () => {
    let clock = T0;
    const limiter = new RateLimiter(redis, freshPrefix(), () => clock, 0);
    const admit = () => limiter.acquireClient('c', 1_000);
    expect((await cost(admit)).by.pexpire).toBe(1);
    clock += 59_999;
    expect(await cost(admit)).toEqual({ total: 5, by: { evalsha: 1, zrange: 1, zremrangebyscore: 1, zcard: 1, zadd: 1 } });
    clock += 1;
    expect((await cost(admit)).by.pexpire).toBe(1);
  });
});
