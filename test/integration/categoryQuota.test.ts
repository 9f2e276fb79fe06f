import { afterAll, describe, expect, test } from 'vitest';
import { dailyCategoryQuota } from '../../libs/pipeline/categoryAnswer.ts';
import { redisKit } from '../helpers/redisKit.ts';

const kit = redisKit('category-quota');
afterAll(() => kit.cleanup());

describe('dailyCategoryQuota', () => {
  test('admits `limit` asks per client and UTC day, then refuses; a new day starts again; the key expires', async () => {
    const redis = kit.connect();
    const prefix = kit.freshPrefix();
    let now = Date.parse('2026-12-01T23:59:00Z');
    const admit = dailyCategoryQuota(redis, prefix, () => now);
    const asks = async (clientId: string, n: number) => {
      const answers: boolean[] = [];
      for (let i = 0; i < n; i++) answers.push(await admit(clientId, 2));
      return answers;
    };
    expect(await asks('acme', 3)).toEqual([true, true, false]);
    expect(await asks('globex', 1)).toEqual([true]);
    const ttl = await redis.ttl(`${prefix}:category:asked:acme:2026-12-01`);
    expect(ttl).toBeGreaterThan(86_000);
    now += 120_000;
    expect(await asks('acme', 1)).toEqual([true]);
  });
});
