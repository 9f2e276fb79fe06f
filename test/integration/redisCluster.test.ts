/**
 * Every Redis adapter of the gateway on a real Redis Cluster of the test's own: each Lua script
 * and MULTI keeps to one slot (a cluster refuses CROSSSLOT), readiness and the persistence check
 * see every master, and the start-up check finds the cluster from any live node.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis, redisProblem } from '../../libs/redis/connection.ts';
import { redisAnswers, type RedisClient, type RedisTarget } from '../../libs/redis/client.ts';
import { checkRedisPersistence } from '../../libs/redis/persistence.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { ResponseCache, type CachedAnswer } from '../../libs/cache/responseCache.ts';
import { SharedBreaker, type BreakerPermit } from '../../libs/resilience/sharedBreaker.ts';
import { dailyCategoryQuota } from '../../libs/pipeline/categoryAnswer.ts';
import { claimIdempotencyKey, idempotencyClaimKey } from '../../libs/jobs/idempotency.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redisCluster.ts';
import { Queue } from 'bullmq';
import { IntakeUndo } from '../../libs/jobs/intakeUndo.ts';
import { LLM_QUEUE } from '../../libs/queue/jobs.ts';

let cluster: RedisCluster;
let target: RedisTarget;
let redis: RedisClient;
const prefix = `{test-cluster-${randomUUID().slice(0, 8)}}`;
const limits = { monthlyMicros: 1_000_000, dailyMicros: null };

beforeAll(async () => {
  cluster = await startRedisCluster();
  target = { url: 'redis://127.0.0.1:6379', clusterNodes: [cluster.nodes[0]!] };
  redis = createRedis(target, 'cluster-test');
}, 60_000);

afterAll(async () => {
  try {
    await redis?.quit();
  } finally {
    await cluster?.cleanup();
  }
}, 30_000);

describe('the Redis adapters on a cluster', () => {
  test('budget: reserve, settle, release, charge and reap run in one slot', async () => {
    const budget = new BudgetStore(redis, prefix);
    expect((await budget.reserve({ holdId: 'h:1', amountMicros: 5000, limits, ttlMs: 60_000 })).ok).toBe(true);
    await budget.settle('h:1', 3000);
    await budget.reserve({ holdId: 'h:2', amountMicros: 5000, limits, ttlMs: 60_000 });
    expect(await budget.release('h:2')).toBe(true);
    await budget.reserve({ holdId: 'h:3', amountMicros: 2000, limits, ttlMs: 60_000 });
    expect(await budget.charge('h:3')).toMatchObject({ micros: 2000 });
    await budget.reserve({ holdId: 'h:4', amountMicros: 1000, limits, ttlMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await budget.reap()).toMatchObject({ charged: 1, micros: 1000 });
    expect((await budget.snapshot()).month.spent).toBe(6000);
  });

  test('rate limits, breakers, cache entries, idempotency claims, the category quota and the intake undo', async () => {
    const limiter = new RateLimiter(redis, prefix);
    expect(await limiter.acquireProvider('openai', { rpm: 10, tpm: 10_000 }, 500)).toEqual({ ok: true });
    expect(await limiter.acquireClient('c1', 10)).toEqual({ ok: true });
    expect(await limiter.acquireClientRead('c1', 10)).toEqual({ ok: true });

    const breaker = new SharedBreaker(redis, prefix);
    const settings = { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
    const permit = await breaker.acquire('openai', settings, 5000);
    expect(await breaker.record(permit, 'success')).toBe('closed');

    const cache = new ResponseCache(redis, prefix);
    const answer: CachedAnswer = { text: 'plan', provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 1, outputTokens: 1, createdAt: new Date().toISOString() };
    const computed = await cache.getOrCompute('k1', async () => answer, { ttlSeconds: 60, staleTtlSeconds: 600, waitTimeoutMs: 5000 });
    expect(computed).toMatchObject({ value: { text: 'plan' } });
    await cache.set('k2', { ...answer, text: 'other' }, 60, 600);
    // Two entries in two slots, read together.
    expect(await cache.getFirst(['missing', 'k2', 'k1'])).toMatchObject({ key: 'k2', entry: { text: 'other' } });
    await cache.close();

    const claim = await claimIdempotencyKey(redis, prefix, 'c1', 'key-1', { a: 1 });
    expect(claim.fresh).toBe(true);
    expect(await redis.exists(idempotencyClaimKey(prefix, claim.jobId))).toBe(1);
    expect(await dailyCategoryQuota(redis, prefix)('c1', 5)).toBe(true);

    // Undoing an unanswered submission reads the job and its claim in one script: one slot.
    const queue = new Queue(LLM_QUEUE, { connection: redis, prefix });
    await queue.add('llm', {}, { jobId: claim.jobId });
    expect(await new IntakeUndo(redis).start(queue, claim.jobId, { added: true, claimKey: idempotencyClaimKey(prefix, claim.jobId) })).toBe('removed');
    expect(await redis.exists(idempotencyClaimKey(prefix, claim.jobId))).toBe(0);
    await queue.obliterate({ force: true });
    await queue.close();

    await unlinkPrefix(redis, prefix);
    for (const node of cluster.nodes) {
      const one = createRedis(`redis://${node.host}:${node.port}`, 'cluster-test-count');
      expect(await one.keys(`${prefix.slice(0, -1)}*`)).toEqual([]);
      one.disconnect();
    }
  });

  test('provider admission: the breaker and the rate limit live in two slots, asked one after the other in the same order', async () => {
    const own = `{test-cluster-admit-${randomUUID().slice(0, 8)}}`;
    let now = Date.parse('2036-11-25T12:00:00Z');
    const limiter = new RateLimiter(redis, own, () => now, 0);
    const breaker = new SharedBreaker(redis, own, () => now);
    const settings = { consecutive_failures: 1, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 };
    const gate = { breaker, settings, trialTtlMs: 5000 };
    const admitted = await limiter.acquireProvider('openai', { rpm: 1, tpm: 10_000 }, 500, gate);
    expect(admitted).toMatchObject({ ok: true, permit: { allowed: true, state: 'closed' } });
    // A failure opens the breaker; once it is due for a trial, the spent limit holds the call back
    // and the trial is handed back, so another process may take it at once.
    expect(await breaker.record((admitted as { permit: BreakerPermit }).permit, 'failure')).toBe('open');
    expect(await limiter.acquireProvider('openai', { rpm: 1, tpm: 10_000 }, 500, gate)).toMatchObject({ ok: true, permit: { allowed: false, state: 'open' } });
    now += 30_000;
    expect(await limiter.acquireProvider('openai', { rpm: 1, tpm: 10_000 }, 500, gate)).toEqual({ ok: false, waitMs: 30_000 });
    expect(await breaker.acquire('openai', settings, 5000)).toMatchObject({ allowed: true, isTrial: true });
    await unlinkPrefix(redis, own);
  });
});

describe('checks on a cluster', () => {
  test('readiness pings every master; the persistence check names each unsafe one', async () => {
    expect(await redisAnswers(redis)).toBe(true);
    const warnings: string[][] = [];
    const verdict = await checkRedisPersistence(target, { warn: (fields) => warnings.push((fields as { problems: string[] }).problems), info: () => {} });
    expect(verdict.kind).toBe('warn');
    // The test cluster runs without persistence: three masters, each named.
    expect(new Set(warnings[0]!.map((p) => p.split(': ')[0])).size).toBe(3);
  });

  test('the start-up check finds the cluster from any live node, and names REDIS_CLUSTER_NODES when none answers', async () => {
    const dead = { host: '127.0.0.1', port: 1 };
    expect(await redisProblem({ url: target.url, clusterNodes: [dead, cluster.nodes[1]!] }, 1000)).toBeNull();
    const problem = await redisProblem({ url: target.url, clusterNodes: [dead] }, 1000);
    expect(problem?.code).toBe('redis_unreachable');
    expect(problem?.message).toMatch(/127\.0\.0\.1:1.*REDIS_CLUSTER_NODES/);
  });
});
