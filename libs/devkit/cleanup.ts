import { Queue } from 'bullmq';
import { mastersOf, whenReady, type RedisClient, type RedisTarget } from '../redis/client.ts';
import { createRedis } from '../redis/connection.ts';
import { keyPatterns } from '../redis/keys.ts';
import { LLM_QUEUE, queuePrefix } from '../queue/jobs.ts';

/** Removes every key a run left under its queue prefix, so demos and tests leave Redis clean. */
export async function obliterateQueues(redis: string | RedisTarget, prefix: string): Promise<void> {
  const connection = createRedis(redis, 'cleanup');
  try {
    const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
    await unlinkPrefix(connection, queuePrefix(prefix));
  } finally {
    connection.disconnect();
  }
}

/** Deletes every key under the braced queue prefix `prefix`: in its own hash tag and in its families' (keyPatterns). */
export async function unlinkPrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const pattern of keyPatterns(prefix)) await unlinkMatching(redis, pattern);
}

/** Deletes every key matching `pattern` (SCAN, then UNLINK in batches), on every master of a cluster. */
export async function unlinkMatching(redis: RedisClient, pattern: string): Promise<void> {
  await whenReady(redis, 10_000);
  for (const server of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // One key per UNLINK on a cluster: keys of one batch may live in different slots.
      if (keys.length) await (server === redis ? server.unlink(...keys) : Promise.all(keys.map((k) => redis.unlink(k))));
    } while (cursor !== '0');
  }
}
