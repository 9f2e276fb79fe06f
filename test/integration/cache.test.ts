import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { ResponseCache, type CachedAnswer, type GetOrComputeOptions } from '../../libs/cache/responseCache.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = queuePrefix(`test-cache-${randomUUID()}`);
// Two connections and two caches: two "processes" that share only Redis.
const redisA = createRedis(REDIS_URL, 'cache-test-a');
const redisB = createRedis(REDIS_URL, 'cache-test-b');
const cacheA = new ResponseCache(redisA, prefix);
const cacheB = new ResponseCache(redisB, prefix);
const opts: GetOrComputeOptions = { ttlSeconds: 60, staleTtlSeconds: 600, lockTtlMs: 5000, waitTimeoutMs: 10_000 };

afterAll(async () => {
  await Promise.all([cacheA.close(), cacheB.close()]);
  await unlinkPrefix(redisA, prefix);
  redisA.disconnect();
  redisB.disconnect();
});

function answer(text: string): CachedAnswer {
  return { text, provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 500, outputTokens: 300, createdAt: new Date().toISOString() };
}

/** A compute that counts its calls and answers after `ms`. */
function counted(text: string, ms = 100): { calls: number; fn: () => Promise<CachedAnswer> } {
  const c = {
    calls: 0,
    fn: async () => {
      c.calls++;
      await new Promise((r) => setTimeout(r, ms));
      return answer(text);
    },
  };
  return c;
}

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ResponseCache get/set', () => {
  test('answers a fresh entry, and a stale one only with allowStale', async () => {
    let now = Date.now();
    const cache = new ResponseCache(redisA, prefix, { now: () => now });
    const key = randomUUID();
    const plan = answer('plan');
    await cache.set(key, plan, 60, 600);
    expect(await cache.get(key)).toEqual({ entry: plan, stale: false });
    const pttl = await redisA.pttl(cache.entryKey(key));
    expect(pttl).toBeGreaterThan(590_000);
    expect(pttl).toBeLessThanOrEqual(600_000);

    now += 61_000;
    expect(await cache.get(key)).toBeNull();
    expect(await cache.get(key, { allowStale: true })).toMatchObject({ entry: { text: 'plan' }, stale: true });
  });

  test('getFirst falls back to the category key', async () => {
    const [exact, category] = [randomUUID(), randomUUID()];
    expect(await cacheA.getFirst([exact, category])).toBeNull();
    await cacheA.set(category, answer('category answer'), 60, 600);
    expect(await cacheA.getFirst([exact, category])).toMatchObject({ key: category, entry: { text: 'category answer' } });
    await cacheA.set(exact, answer('exact answer'), 60, 600);
    expect(await cacheA.getFirst([exact, category])).toMatchObject({ key: exact, entry: { text: 'exact answer' } });
  });

  test('treats an unreadable entry as a miss and refuses a non-positive TTL', async () => {
    const key = randomUUID();
    await redisA.set(cacheA.entryKey(key), 'not json', 'PX', 60_000);
    expect(await cacheA.get(key, { allowStale: true })).toBeNull();
    await expect(cacheA.set(key, answer('x'), 0, 600)).rejects.toThrow(RangeError);
  });
});

describe('ResponseCache getOrCompute (single flight)', () => {
  test('100 concurrent calls over two processes compute once and share the value', async () => {
    const key = randomUUID();
    const compute = counted('one answer', 200);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? cacheB : cacheA).getOrCompute(key, compute.fn, opts)));
    expect(compute.calls).toBe(1);
    expect(new Set(results.map((r) => r.value.text))).toEqual(new Set(['one answer']));
    expect(results.filter((r) => r.outcome === 'miss')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'shared' && r.shared)).toHaveLength(99);
    expect(await redisA.exists(cacheA.lockKey(key))).toBe(0);

    const again = await cacheB.getOrCompute(key, compute.fn, opts);
    expect(again).toMatchObject({ outcome: 'hit', shared: true, value: { text: 'one answer' } });
    expect(compute.calls).toBe(1);
  });

  test('a stale entry is recomputed, not served', async () => {
    let now = Date.now();
    const cache = new ResponseCache(redisA, prefix, { now: () => now });
    const key = randomUUID();
    await cache.set(key, answer('old'), 60, 600);
    now += 120_000;
    const compute = counted('new', 0);
    expect(await cache.getOrCompute(key, compute.fn, opts)).toMatchObject({ outcome: 'miss', value: { text: 'new' } });
    expect(compute.calls).toBe(1);
    await cache.close();
  });

  test("a leader's failure reaches its own caller; exactly one follower recomputes for the rest", async () => {
    const key = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const leader = cacheA.getOrCompute(
      key,
      async () => {
        await gate;
        throw new Error('provider down');
      },
      opts,
    );
    await until(async () => (await redisA.exists(cacheA.lockKey(key))) === 1);
    const retry = counted('second try', 50);
    const followers = Array.from({ length: 20 }, (_, i) => (i % 2 ? cacheB : cacheA).getOrCompute(key, retry.fn, opts));
    // Let B's follower subscribe before the leader fails, so the failure signal is what wakes it.
    await until(async () => Number((await redisA.pubsub('NUMSUB', cacheA.channel(key)))[1]) === 1);
    release();
    await expect(leader).rejects.toThrow('provider down');
    const results = await Promise.all(followers);
    expect(retry.calls).toBe(1);
    expect(results.every((r) => r.value.text === 'second try')).toBe(true);
    expect(results.filter((r) => r.outcome === 'miss')).toHaveLength(1);
  });

  test('a crashed leader (lock never released) holds followers only until the lock expires', async () => {
    const key = randomUUID();
    await redisA.set(cacheA.lockKey(key), 'crashed-worker', 'PX', 300);
    const compute = counted('after crash', 0);
    const started = Date.now();
    const results = await Promise.all([cacheA.getOrCompute(key, compute.fn, opts), cacheB.getOrCompute(key, compute.fn, opts)]);
    const elapsed = Date.now() - started;
    expect(compute.calls).toBe(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['miss', 'shared']);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  test('a live leader renews its short lock past many TTLs: followers wait and share its one computation', async () => {
    const key = randomUUID();
    const compute = counted('long call', 2500);
    const short = { ...opts, lockTtlMs: 600, waitTimeoutMs: 30_000 };
    const leading = cacheA.getOrCompute(key, compute.fn, short);
    await until(async () => (await redisA.exists(cacheA.lockKey(key))) === 1);
    const results = await Promise.all([leading, cacheB.getOrCompute(key, compute.fn, short), cacheB.getOrCompute(key, compute.fn, short)]);
    expect(compute.calls).toBe(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['miss', 'shared', 'shared']);
    expect(await redisA.exists(cacheA.lockKey(key))).toBe(0);
  });

  test('a leader that stops renewing (its process died) frees its followers within lock TTL + one renewal interval', async () => {
    const key = randomUUID();
    const lockTtlMs = 1500;
    const dying = createRedis(REDIS_URL, 'cache-test-dying');
    const dyingCache = new ResponseCache(dying, prefix);
    const hung = counted('never delivered', 20_000);
    // Never awaited: its process is about to "die".
    void dyingCache.getOrCompute(key, hung.fn, { ...opts, lockTtlMs, waitTimeoutMs: 60_000 }).catch(() => undefined);
    await until(async () => (await redisA.exists(cacheA.lockKey(key))) === 1);
    // Let it renew a few times, then cut its connection: no renewal, release or signal gets out.
    await new Promise((r) => setTimeout(r, lockTtlMs));
    expect(await redisA.pttl(cacheA.lockKey(key))).toBeGreaterThan(lockTtlMs / 2);
    const diedAt = Date.now();
    dying.disconnect();
    const compute = counted('taken over', 0);
    const results = await Promise.all([cacheA.getOrCompute(key, compute.fn, { ...opts, lockTtlMs, waitTimeoutMs: 60_000 }), cacheB.getOrCompute(key, compute.fn, { ...opts, lockTtlMs, waitTimeoutMs: 60_000 })]);
    const freedAfter = Date.now() - diedAt;
    expect(compute.calls).toBe(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['miss', 'shared']);
    // Margin for a busy machine on top of TTL + one renewal interval.
    expect(freedAfter).toBeLessThan(lockTtlMs + lockTtlMs / 3 + 1500);
    await dyingCache.close();
  });

  test('a follower past waitTimeoutMs computes by itself and leaves the holder its lock', async () => {
    const key = randomUUID();
    await redisA.set(cacheA.lockKey(key), 'slow-worker', 'PX', 60_000);
    const compute = counted('impatient', 0);
    const started = Date.now();
    const r = await cacheB.getOrCompute(key, compute.fn, { ...opts, waitTimeoutMs: 200 });
    expect(r).toMatchObject({ outcome: 'miss', shared: false, value: { text: 'impatient' } });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await redisA.get(cacheA.lockKey(key))).toBe('slow-worker');
    expect(await cacheA.get(key)).toMatchObject({ entry: { text: 'impatient' } });
  });

  test('an answer `keep` refuses reaches the callers waiting for it but is not stored', async () => {
    const key = randomUUID();
    const compute = counted('cut short', 100);
    const keep = (a: CachedAnswer) => a.text !== 'cut short';
    const results = await Promise.all([cacheA, cacheB, cacheA].map((c) => c.getOrCompute(key, compute.fn, { ...opts, keep })));
    expect(compute.calls).toBe(1);
    expect(results.map((r) => r.value.text)).toEqual(['cut short', 'cut short', 'cut short']);
    expect(await cacheB.get(key)).toBeNull();
  });
});
