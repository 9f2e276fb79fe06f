import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis } from '../redis/connection.ts';
import { LLM_QUEUE, queuePrefix } from '../queue/jobs.ts';

/** Removes every key a run left under its queue prefix, so demos and tests leave Redis clean. */
export async function obliterateQueues(redisUrl: string, prefix: string): Promise<void> {
  const connection = createRedis(redisUrl, 'cleanup');
  try {
    const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
    // Keys the project adds beside its queues share the prefix ({prefix} hash tag convention).
    await unlinkMatching(connection, `${queuePrefix(prefix)}:*`);
  } finally {
    connection.disconnect();
  }
}

/** Deletes every key matching `pattern` (SCAN, then UNLINK in batches). */
export async function unlinkMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
