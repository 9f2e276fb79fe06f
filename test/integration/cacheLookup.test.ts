import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { ResponseCache, type CachedAnswer, type GetOrComputeOptions } from '../../libs/cache/responseCache.ts';

// The single-flight probe (lockOrRead-2.lua) decides freshness from the entry's head, without
// decoding the answer; entries of any layout an earlier version could write still read.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = queuePrefix(`test-cache-lookup-${randomUUID()}`);
const redis = createRedis(REDIS_URL, 'cache-lookup-test');
const cache = new ResponseCache(redis, prefix);
const opts: GetOrComputeOptions = { ttlSeconds: 60, staleTtlSeconds: 600, lockTtlMs: 5000, waitTimeoutMs: 10_000 };

afterAll(async () => {
  await cache.close();
  await unlinkPrefix(redis, prefix);
  redis.disconnect();
});

const stored: CachedAnswer = { text: 'stored plan', provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 5, outputTokens: 3, createdAt: '2025-01-01T00:00:00.000Z' };
const computed = async (): Promise<CachedAnswer> => ({ ...stored, text: 'computed plan' });

/** getOrCompute over an entry written as `raw` by hand (another version, another layout). */
async function probeOver(raw: string) {
  const key = randomUUID();
  await redis.set(cache.entryKey(key), raw, 'PX', 600_000);
  return cache.getOrCompute(key, computed, opts);
}

describe('the single-flight probe', () => {
  test('a fresh entry in the layout every version writes is a hit; a stale one is recomputed', async () => {
    const body = JSON.stringify(stored);
    expect(await probeOver(`{"freshUntil":${Date.now() + 60_000},"entry":${body}}`)).toMatchObject({ outcome: 'hit', value: { text: 'stored plan' } });
    expect(await probeOver(`{"freshUntil":${Date.now() - 1},"entry":${body}}`)).toMatchObject({ outcome: 'miss', value: { text: 'computed plan' } });
  });

  test('an entry whose freshUntil is not first is still read (full decode)', async () => {
    const reordered = JSON.stringify({ entry: stored, freshUntil: Date.now() + 60_000 });
    expect(await probeOver(reordered)).toMatchObject({ outcome: 'hit', value: { text: 'stored plan' } });
  });

  test('an unreadable entry is a miss', async () => {
    expect(await probeOver('{"freshUntil":')).toMatchObject({ outcome: 'miss', value: { text: 'computed plan' } });
    expect(await probeOver('not json')).toMatchObject({ outcome: 'miss' });
  });
});
