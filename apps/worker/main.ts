import { Queue, QueueEvents, Worker } from 'bullmq';
import { openJobStore } from '../../libs/store/open.ts';
import { BatchWriter } from '../../libs/store/batchWriter.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_JOB_OPTIONS, LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { startReconciler } from '../../libs/jobs/recovery.ts';
import { ProviderRegistry } from '../../libs/providers/registry.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { ResponseCache } from '../../libs/cache/responseCache.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { STALLED_OUT_REASON, finishStalledOut, processLlmJob, type LlmJobOutcome, type PipelineDeps } from '../../libs/pipeline/llmJob.ts';
import { publicJob } from '../../libs/jobs/view.ts';
import { clientCallbackAllowlist } from '../../libs/config/clients.ts';
import { CATEGORY_JOB_OPTIONS, CategoryAnswers, dailyCategoryQuota } from '../../libs/pipeline/categoryAnswer.ts';
import { WEBHOOK_QUEUE, enqueueWebhook } from '../../libs/webhooks/queue.ts';
import { processWebhookJob } from '../../libs/webhooks/delivery.ts';
import { DEFAULT_WEBHOOK_DELAYS_MS, webhookBackoffStrategy } from '../../libs/webhooks/schedule.ts';
import { webhookStateStore } from '../../libs/webhooks/stateStore.ts';
import type { WebhookJobData } from '../../libs/webhooks/types.ts';
import { jobEvent, webhookFinishedEvent } from '../../libs/telemetry/jobEvent.ts';
import { DailyJsonlAppender, prepareTelemetryDir } from '../../libs/telemetry/dailyFile.ts';
import { announceReady } from '../../libs/telemetry/logger.ts';
import { checkRedisPersistence } from '../../libs/redis/persistence.ts';
import { onShutdown } from '../../libs/lifecycle/shutdown.ts';
import { startGatewayProcess } from '../../libs/lifecycle/startup.ts';
import { countConfigReloads, createProcessRegistry, fresh, reportConfigVersion } from '../../libs/telemetry/metrics/registry.ts';
import { readyConfigView, syncProcessConfig } from '../../libs/config/sync/process.ts';
import { createWorkerMetrics } from '../../libs/telemetry/metrics/worker.ts';
import { startMetricsServer } from '../../libs/telemetry/metrics/server.ts';
import { redisAnswers } from '../../libs/redis/client.ts';
import { startAlerter } from '../../libs/alerts/alerter.ts';
import { recordWaiting } from '../../libs/jobs/waiting.ts';
import { onBudgetChange, startBudgetDeferredSweep } from '../../libs/jobs/budgetDeferred.ts';
import { capReached } from '../../libs/budget/admission.ts';
import { budgetLimits } from '../../libs/budget/reservation.ts';
import { cheapestJobMicros } from '../../libs/pipeline/route.ts';
import { startWorkerBatchLane } from '../../libs/batch/workerLane.ts';
import { PacingGate } from '../../libs/budget/pacingGate.ts';

/** How far back, in ms, a starting worker looks for jobs that stalled out before it listened. */
const STALLED_OUT_REPLAY_MS = 5 * 60_000;

/** How often the reaper charges the budget holds of crashed workers, in ms. */
const REAP_INTERVAL_MS = 5000;

const { log, env, config } = await startGatewayProcess('worker');
const store = await openJobStore(env.databaseUrl);
const writer = new BatchWriter(store);
const connection = createRedis(env.redis, 'worker', { log });
// BullMQ's queues and workers get a connection of their own. BullMQ defines its 60-odd Lua scripts
// on the connection it is given, and ioredis copies every script defined on a connection into each
// pipeline it builds, auto-pipelined batches included (about 34 us per batch with BullMQ's scripts,
// 3 us without): the gateway's own commands (cache, breaker, rate limits) stay on `connection`,
// clear of BullMQ's scripts, and BullMQ's few commands per job go out unbatched, which measured
// cheaper than building a pipeline for each.
const queueConnection = createRedis(env.redis, 'worker-queue', { log, autoPipelining: false });
const prefix = queuePrefix(env.queuePrefix);
const breaker = new SharedBreaker(connection, prefix);
const metricsRegistry = createProcessRegistry('gateway_worker_');
const metrics = createWorkerMetrics(metricsRegistry);
countConfigReloads(metricsRegistry, config);
reportConfigVersion(metricsRegistry, config);
// One config everywhere: this worker runs the newest version published through Redis, and publishes its own CONFIG_DIR's edits.
const configSync = await syncProcessConfig({ config, redis: connection, prefix, log, processName: 'worker', pollMs: env.configSyncPollMs });
breaker.onTransition((provider, from, to) => log.warn({ event: 'breaker_transition', provider, from, to }, `circuit breaker for ${provider}: ${from} -> ${to}`));
breaker.onTransition((provider, from, to) => metrics.breakerTransition(provider, from, to));
breaker.onRecordError((provider, err) => log.warn({ err, provider }, 'could not record a call outcome in the circuit breaker'));
const cache = new ResponseCache(connection, prefix);
// The money path gets its own connection without auto-pipelining: reserve and settle sit on every
// job's critical path, and a tick of batching delay doubles their tail latency.
const budgetConnection = createRedis(env.redis, 'worker-budget', { autoPipelining: false, log });
// A budget window Redis lost is rebuilt from the finished jobs' costs before it admits anything.
const budget = new BudgetStore(budgetConnection, prefix, { spend: store });
const rateLimiter = new RateLimiter(connection, prefix);
const providers = new ProviderRegistry(env);
const webhookQueue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection: queueConnection, prefix });
const llmQueue = new Queue<LlmJobData>(LLM_QUEUE, { connection: queueConnection, prefix });
// Jobs deferred by an exhausted budget run as soon as an operator changes the budget, or (checked
// every 30 s) as soon as the budget admits the cheapest job again.
config.onReload(onBudgetChange({ queue: llmQueue as Queue, redis: connection, prefix, log }));
const deferredSweep = startBudgetDeferredSweep({
  queue: llmQueue as Queue,
  redis: connection,
  prefix,
  log,
  admits: async () => {
    const cfg = config.current();
    const maxOut = Math.min(...Object.values(cfg.features).map((f) => f.output.max_output_tokens));
    return capReached(await budget.snapshot(), budgetLimits(cfg.rateLimits.budget), cheapestJobMicros(cfg, maxOut, new Date())) === null;
  },
});
// Evaluates config/alerts.json cluster-wide and posts to GATEWAY_ALERT_WEBHOOK_URL; jobs, rate-limit waits and dead letters feed it.
const alerter = startAlerter({ connection: queueConnection, prefix, config, budget, breaker, llmQueue, webhookUrl: env.alertWebhookUrl, log });
rateLimiter.onProviderWait((provider) => alerter.signals.rateLimitWait(provider));
const webhookState = alerter.watchWebhookState(webhookStateStore(connection, prefix));
const webhookDelays = env.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_DELAYS_MS;
const webhookAttempts = { attempts: webhookDelays.length + 1 };
// One JSON line per finished job (and per ended webhook) in TELEMETRY_DIR/jobs-YYYY-MM-DD.jsonl, whatever LOG_LEVEL says.
await prepareTelemetryDir(env.telemetryDir);
const telemetry = new DailyJsonlAppender(env.telemetryDir, 'jobs', {
  onProblem: (problem) => log.error({ event: 'telemetry_write_problem', ...problem }, 'telemetry lines were lost'),
});

// Generic answers per category: asked for by paid answers, written by low-priority jobs of the same queue.
const categoryAnswers = new CategoryAnswers({
  add: (request) => llmQueue.add('category', request.data, { ...CATEGORY_JOB_OPTIONS, jobId: request.id }),
  admit: dailyCategoryQuota(connection, prefix),
});

// Jobs whose deadline leaves room ride the providers' batch APIs at the batch price (libs/batch).
const batchLane = startWorkerBatchLane({ connection, queueConnection, prefix, config, env, budget, breaker, llmQueue: llmQueue as Queue, log });

// Budget pacing (rate_limits.json budget.pacing): reads the budget's totals at most once a second.
const pacing = new PacingGate(connection, prefix, { settings: () => config.current().rateLimits.budget });

const pipeline: PipelineDeps = {
  config: () => config.current(),
  providers,
  breaker,
  cache,
  budget,
  rateLimiter,
  log,
  categoryAnswers,
  batchLane: batchLane.lane,
  pacing,
  metrics,
  save: (record) => writer.save(record),
  recordWaiting: (jobId, w) => recordWaiting(connection, prefix, jobId, w.reason, w.untilMs, { budgetDeferred: w.budgetDeferred }),
  onFinished: async (record, data) => {
    const event = jobEvent(record);
    telemetry.append(event);
    log.info(event, 'job finished');
    alerter.signals.jobFinished(record);
    if (!data.callbackUrl) return;
    const type = record.status === 'completed' ? 'job.completed' : record.status === 'rejected' ? 'job.rejected' : 'job.failed';
    const requestId = record.request_id ?? data.requestId;
    await enqueueWebhook(webhookQueue, { jobId: record.id, clientId: record.client_id, url: data.callbackUrl, type, data: publicJob(record), ...(requestId ? { requestId } : {}) }, webhookAttempts);
  },
};

const worker = new Worker<LlmJobData, LlmJobOutcome>(
  LLM_QUEUE,
  // Taking BullMQ's job signal (the third argument) lets shutdown abort the calls in flight.
  (job, token, signal) => processLlmJob(job, token, pipeline, signal),
  {
    connection: queueConnection,
    prefix,
    concurrency: env.workerConcurrency,
    lockDuration: env.workerLockMs,
    stalledInterval: Math.max(1000, Math.floor(env.workerLockMs / 2)),
    // A job whose worker dies is run again, up to this many times (then finishStalledOut ends it).
    maxStalledCount: env.workerMaxStalled,
  },
);
worker.on('error', (err) => log.error({ err }, 'worker error'));

// BullMQ fails a job that stalled too often without running the processor, and announces it only
// on the queue's event stream: every worker listens, and ending the job is idempotent. A worker
// reads the last minutes of the stream at start: the stall check of a worker that starts after a
// crash (the only one left) can announce the failure before this listener's first read.
const queueEvents = new QueueEvents(LLM_QUEUE, {
  // A blocking XREAD is one command at a time: batching would only build a pipeline per read.
  connection: createRedis(env.redis, 'worker-events', { log, probe: false, autoPipelining: false }),
  prefix,
  lastEventId: `${Date.now() - STALLED_OUT_REPLAY_MS}-0`,
});
queueEvents.on('failed', ({ jobId, failedReason }) => {
  if (failedReason !== STALLED_OUT_REASON) return;
  void llmQueue
    .getJob(jobId)
    .then((job) => job && finishStalledOut(job, pipeline))
    .then(() => log.warn({ event: 'job_stalled_out', jobId }, 'a job lost its worker too many times; ended it'))
    .catch((err: unknown) => log.error({ err, jobId }, 'could not end a stalled-out job'));
});
worker.on('failed', (job, err) => log.warn({ jobId: job?.id, requestId: job?.data.requestId ?? null, attemptsMade: job?.attemptsMade, err: err.message }, 'job attempt failed'));

const webhookWorker = new Worker<WebhookJobData>(
  WEBHOOK_QUEUE,
  (job) =>
    processWebhookJob(job, {
      secrets: (clientId) => env.webhookSecrets[clientId] ?? [],
      // The same hosts the API accepted at submission: everyone's, plus this client's own.
      allowlist: [...env.callbackAllowlist, ...clientCallbackAllowlist(config.current(), job.data.clientId)],
      ...webhookState,
      recordAttempt: (jobId, attempt, state) => {
        metrics.webhookAttempt(state.status);
        return webhookState.recordAttempt(jobId, attempt, state);
      },
      log,
      onEnded: (ended) => void telemetry.append(webhookFinishedEvent(ended)),
    }),
  { connection: queueConnection, prefix, concurrency: 50, settings: { backoffStrategy: webhookBackoffStrategy({ delaysMs: webhookDelays }) } },
);
webhookWorker.on('error', (err) => log.error({ err }, 'webhook worker error'));

// Every worker reaps; the Lua script makes concurrent reaping safe and charges each dead hold once.
const reaper = setInterval(() => {
  budget
    .reap()
    .then((r) => r.charged > 0 && log.warn({ event: 'budget_holds_reaped', charged: r.charged, micros: r.micros, crossed: r.crossed }, 'charged the budget holds of crashed workers'))
    .catch((err) => log.error({ err }, 'budget reaper failed'));
}, REAP_INTERVAL_MS);
reaper.unref();

await Promise.all([worker.waitUntilReady(), webhookWorker.waitUntilReady()]);
const metricsServer = await startMetricsServer({
  registry: metricsRegistry,
  port: env.workerMetricsPort,
  // Ready while Redis and the store both answer within 800 ms.
  ready: async () => (await fresh(async () => (await redisAnswers(queueConnection)) && (await redisAnswers(connection)) && (await store.ping()), 800)) === true,
  describe: () => ({ config: readyConfigView(config.version()) }),
});
announceReady(log, { concurrency: env.workerConcurrency, metricsPort: metricsServer.port }, 'worker ready');
// Rebuilds what Redis lost (queued jobs, budget spend) from the result store.
const reconciler = startReconciler({ redis: connection, prefix, queue: llmQueue, jobOptions: LLM_JOB_OPTIONS, store, seedBudget: () => budget.seedWindows(), log });
void checkRedisPersistence(env.redis, log);

onShutdown(log, [
  // Stop taking jobs and let those in flight finish (their answers are paid for); near the end of
  // the grace, their calls are aborted and the jobs go back to the queue. Then flush their records.
  ['workers', () => Promise.all([worker.close(), webhookWorker.close(), alerter.close(), batchLane.clock.close()])],
  // Successes are recorded without waiting: let the last ones land before the connection closes.
  ['breaker', () => breaker.drain()],
  ['reaper', async () => {
    clearInterval(reaper);
    deferredSweep.stop();
  }],
  ['reconciler', () => reconciler.stop()],
  ['writer', () => writer.flush()],
  // The alert signals of the jobs that finished during the grace, before Redis is closed.
  ['telemetry', () => Promise.all([telemetry.close(), alerter.signals.flush(), pacing.flush().catch(() => undefined)])],
  ['config', async () => (configSync.close(), config.close())],
  ['cache', () => cache.close()],
  ['queues', () => Promise.all([webhookQueue.close(), llmQueue.close(), queueEvents.close()])],
  ['redis', () => Promise.all([connection.quit(), queueConnection.quit(), budgetConnection.quit()])],
  ['store', () => store.close()],
  ['metrics', () => metricsServer.close()],
], { graceMs: env.workerShutdownGraceMs, onGraceEnding: () => worker.cancelAllJobs('worker shutting down') });
