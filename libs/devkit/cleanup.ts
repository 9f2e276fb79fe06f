import { Queue } from 'bullmq';
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
    let cursor = '0';
    do {
      const [next, keys] = await connection.scan(cursor, 'MATCH', `${queuePrefix(prefix)}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await connection.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    connection.disconnect();
  }
}
