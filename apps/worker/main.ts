import { Worker } from 'bullmq';
import { readEnv } from '../../libs/config/env.ts';
import { ConfigHolder } from '../../libs/config/watch.ts';
import { openJobStore } from '../../libs/store/open.ts';
import { BatchWriter } from '../../libs/store/batchWriter.ts';
import { checkRedis, createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { ProviderRegistry } from '../../libs/providers/registry.ts';
import { processLlmJob, type LlmJobOutcome } from '../../libs/pipeline/llmJob.ts';
import { announceReady, createLogger } from '../../libs/telemetry/logger.ts';
import { onShutdown } from '../../libs/lifecycle/shutdown.ts';

const log = createLogger('worker');
const env = readEnv();
const redisProblem = await checkRedis(env.redisUrl);
if (redisProblem) {
  console.error(redisProblem);
  process.exit(1);
}
const config = new ConfigHolder(env.configDir, log);
config.watch();
const store = await openJobStore(env.databaseUrl);
const writer = new BatchWriter(store);
const providers = new ProviderRegistry(env);
const connection = createRedis(env.redisUrl, 'worker');

const worker = new Worker<LlmJobData, LlmJobOutcome>(
  LLM_QUEUE,
  (job) => processLlmJob(job, { config: () => config.current(), providers, save: (r) => writer.save(r), log }),
  { connection, prefix: queuePrefix(env.queuePrefix), concurrency: env.workerConcurrency },
);
worker.on('error', (err) => log.error({ err }, 'worker error'));
worker.on('failed', (job, err) => log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, 'job attempt failed'));
await worker.waitUntilReady();
announceReady(log, { concurrency: env.workerConcurrency }, 'worker ready');

onShutdown(log, [
  // Let jobs in flight finish (their answers are paid for), then flush their records.
  ['worker', () => worker.close()],
  ['writer', () => writer.flush()],
  ['config', async () => config.close()],
  ['redis', () => connection.quit()],
  ['store', () => store.close()],
]);
