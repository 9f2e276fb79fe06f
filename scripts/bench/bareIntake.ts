/**
 * The intake baseline: a bare Express 5 route that parses JSON and adds a BullMQ job, nothing else
 * (no auth, no validation, no error envelope). Same Redis connection settings (createRedis:
 * auto-pipelining) and the same job options as the API, so the difference the bench measures is
 * the gateway's own work per request. Env: PORT, REDIS_URL, BENCH_QUEUE_PREFIX.
 */
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Queue } from 'bullmq';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_JOB_OPTIONS, LLM_QUEUE, queuePrefix } from '../../libs/queue/jobs.ts';

const connection = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'bench-bare-intake');
const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(process.env.BENCH_QUEUE_PREFIX ?? 'bench-bare') });

const app = express();
app.post('/v1/jobs', express.json({ limit: '64kb' }), async (req, res) => {
  const id = randomUUID();
  await queue.add('llm', req.body, { ...LLM_JOB_OPTIONS, jobId: id });
  res.status(202).json({ id });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await once(server, 'listening');
console.log('bare intake listening');

const stop = () => {
  server.close();
  void queue
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
