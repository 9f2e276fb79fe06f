/**
 * Single flight on a real Redis Cluster of the test's own: the completing script (complete-2.lua)
 * stores the entry and signals it from the entry's slot, and a follower whose subscription lives
 * on another connection (another process) still hears it and shares the one computation.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import type { RedisClient } from '../../libs/redis/client.ts';
import { ResponseCache, type CachedAnswer } from '../../libs/cache/responseCache.ts';
import { startRedisCluster, type RedisCluster } from '../helpers/redisCluster.ts';

let cluster: RedisCluster;
let redisA: RedisClient;
let redisB: RedisClient;
const prefix = `{test-cache-cluster-${randomUUID().slice(0, 8)}}`;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const target = { url: 'redis://127.0.0.1:6379', clusterNodes: [cluster.nodes[0]!] };
  redisA = createRedis(target, 'cache-cluster-a');
  redisB = createRedis(target, 'cache-cluster-b');
}, 60_000);

afterAll(async () => {
  try {
    await Promise.all([redisA?.quit(), redisB?.quit()]);
  } finally {
    await cluster?.cleanup();
  }
}, 30_000);

describe('single flight on a cluster', () => {
  test('a follower on another connection shares the leader’s answer, which is also stored', async () => {
    const [cacheA, cacheB] = [new ResponseCache(redisA, prefix), new ResponseCache(redisB, prefix)];
    const answer: CachedAnswer = { text: 'plan', provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 1, outputTokens: 1, createdAt: new Date().toISOString() };
    let calls = 0;
    const compute = async (): Promise<CachedAnswer> => {
      calls++;
      await new Promise((r) => setTimeout(r, 300));
      return answer;
    };
    const options = { ttlSeconds: 60, staleTtlSeconds: 600, waitTimeoutMs: 10_000 };
    try {
      for (const key of ['k1', 'k2', 'k3']) {
        const leading = cacheA.getOrCompute(key, compute, options);
        await new Promise((r) => setTimeout(r, 50));
        const [led, followed] = await Promise.all([leading, cacheB.getOrCompute(key, compute, options)]);
        expect(led).toMatchObject({ outcome: 'miss', value: { text: 'plan' } });
        expect(followed).toMatchObject({ outcome: 'shared', value: { text: 'plan' } });
        expect(await cacheB.get(key)).toMatchObject({ entry: { text: 'plan' }, stale: false });
      }
      expect(calls).toBe(3);
    } finally {
      await Promise.all([cacheA.close(), cacheB.close()]);
    }
  });
});
