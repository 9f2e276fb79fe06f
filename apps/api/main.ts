import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { ApiKeyRegistry } from '../../libs/auth/apiKeys.ts';
import { loadApiKeys } from '../../libs/auth/load.ts';
import { openJobStore } from '../../libs/store/open.ts';
import { reportRunnerFor } from '../../libs/experiments/reportThread.ts';
import { recordWriterFor } from '../../libs/store/writerThread.ts';
import { FAIL_FAST_COMMAND_TIMEOUT_MS, createRedis } from '../../libs/redis/connection.ts';
import { redisAnswers } from '../../libs/redis/client.ts';
import { IntakeUndo } from '../../libs/jobs/intakeUndo.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { announceReady } from '../../libs/telemetry/logger.ts';
import { onShutdown } from '../../libs/lifecycle/shutdown.ts';
import { startGatewayProcess } from '../../libs/lifecycle/startup.ts';
import { createApp } from './app.ts';
import { describeBound } from '../../libs/lifecycle/bound.ts';
import { checkRedisPersistence } from '../../libs/redis/persistence.ts';
import { checkReadiness } from './health.ts';
import { answerParserErrors } from './parserErrors.ts';
import { IntakeGuards } from './guards.ts';
import { createApiMetrics } from '../../libs/telemetry/metrics/api.ts';
import { readAlertStates } from '../../libs/alerts/state.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { BatchStore } from '../../libs/batch/batchStore.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { WEBHOOK_QUEUE } from '../../libs/webhooks/queue.ts';
import { AuditLog, configReloadEntry } from '../../libs/audit/auditLog.ts';
import { DailyJsonlAppender, prepareTelemetryDir } from '../../libs/telemetry/dailyFile.ts';
import { syncProcessConfig } from '../../libs/config/sync/process.ts';

const { log, env, config } = await startGatewayProcess('api');
const apiKeys: ApiKeyRegistry = await loadApiKeys(env);
if (apiKeys.size === 0) log.warn('no API keys configured (GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE): every request will answer 401');
const store = await openJobStore(env.databaseUrl);
// Reports read a month of rows and run the statistics: on their own thread, never this event loop.
const reports = reportRunnerFor(env.databaseUrl, store);
reports.warm?.();
// Intake records are written on a thread of their own (SQLite blocks while it writes); submissions
// arriving together still share one transaction.
const intakeWriter = recordWriterFor(env.databaseUrl, store, (recordId, err) =>
  log.error({ err, event: 'intake_undo_failed', jobId: recordId }, 'the writer thread died and the queued record of a submission answered 503 could not be removed: the job may still run'),
);
// Every Redis command of the API answers or fails within the timeout: a stalled Redis makes requests 503, not hang.
const connection = createRedis(env.redis, 'api', { log, commandTimeoutMs: FAIL_FAST_COMMAND_TIMEOUT_MS });
// The clients' rate limits on a connection of their own that defines only their two scripts: ioredis
// copies every script a connection defines into each auto-pipeline it starts (about 75 on the main
// one, BullMQ's and ours: 50-100 us per pipeline on the 2-core VM, 7 us with two), and the limit's
// command, the first of a submission's, starts one for every batch of submissions.
const limitsConnection = createRedis(env.redis, 'api-limits', { commandTimeoutMs: FAIL_FAST_COMMAND_TIMEOUT_MS });
// Same server: the main connection logs its outages once; here an error only fails the command (503).
limitsConnection.on('error', () => undefined);
const prefix = queuePrefix(env.queuePrefix);
const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection, prefix });
const webhookQueue = new Queue(WEBHOOK_QUEUE, { connection, prefix });
const budget = new BudgetStore(connection, prefix);
const breaker = new SharedBreaker(connection, prefix);
const alertStates = () => readAlertStates(connection, prefix);
// One config everywhere: this process runs the newest version published through Redis, and publishes its own CONFIG_DIR's edits.
const configSync = await syncProcessConfig({ config, redis: connection, prefix, log, processName: 'api', pollMs: env.configSyncPollMs });
const guards = new IntakeGuards({
  config: () => config.current(),
  rateLimiter: new RateLimiter(limitsConnection, prefix),
  budget,
  callbackAllowlist: env.callbackAllowlist,
});

// Operator actions go to TELEMETRY_DIR/audit-YYYY-MM-DD.jsonl. Workers see the same config
// reloads; only the API records them, so each reload is audited once per API process.
await prepareTelemetryDir(env.telemetryDir);
const audit = new AuditLog(env.telemetryDir, { onProblem: (problem) => log.error({ event: 'audit_write_problem', problem }, 'audit lines were lost') });
config.onReload((event) => audit.record(configReloadEntry(event, config.configDir, 'api')));
// Jobs cancelled while queued end here, not in a worker: their telemetry lines too.
const telemetry = new DailyJsonlAppender(env.telemetryDir, 'jobs', {
  onProblem: (problem) => log.error({ event: 'telemetry_write_problem', ...problem }, 'telemetry lines were lost'),
});

const app = createApp({
  queue,
  store,
  reports,
  intakeWriter,
  config: () => config.current(),
  redis: connection,
  prefix,
  guards,
  undo: new IntakeUndo(connection, { log }),
  telemetry,
  budget,
  batchLane: { store: new BatchStore(connection, prefix), budget, log },
  apiKeys,
  metrics: createApiMetrics({
    queue: queue as Queue,
    budget,
    breaker,
    config: () => config.current(),
    ping: () => connection.ping(),
    reloads: config,
    configVersion: config,
    alertStates,
  }),
  operator: {
    adminToken: env.adminToken,
    viewerToken: env.viewerToken,
    config: () => config.current(),
    queues: [queue as Queue, webhookQueue],
    audit,
    configSync: { sync: configSync, files: () => config.files(), version: () => config.version() },
    dashboard: { store, reports, budget, config: () => config.current(), breaker, queue: queue as Queue, webhooks: webhookQueue, alertStates },
    ...(env.webhookRetryDelaysMs ? { webhookAttempts: env.webhookRetryDelaysMs.length + 1 } : {}),
  },
  ready: () => checkReadiness({ redis: async () => (await redisAnswers(connection)) && (await redisAnswers(limitsConnection)), store: () => store.ping() }),
  configVersion: () => config.version(),
  log,
});
const server = app.listen(env.port, env.host);
answerParserErrors(server);
await once(server, 'listening');
// What was really bound (HOST may be a name, PORT may be 0), not what was asked for.
const bound = describeBound(server.address());
announceReady(log, { host: bound.address, port: bound.port, allInterfaces: bound.allInterfaces }, `api listening on ${bound.url}`);
// Once started, so that a start that fails still prints its one line alone.
void checkRedisPersistence(env.redis, log);

onShutdown(log, [
  // Reports first: a report being built or waiting holds its HTTP request open for up to 30 s,
  // which would keep the server from closing; closed, they answer 503 shutting_down at once.
  ['reports', () => reports.close()],
  ['http', () => new Promise((resolve) => server.close(resolve))],
  ['intake writer', () => intakeWriter.close()],
  ['config', async () => (configSync.close(), config.close())],
  ['audit', () => audit.close()],
  ['telemetry', () => telemetry.close()],
  ['queue', () => queue.close()],
  ['webhook queue', () => webhookQueue.close()],
  ['redis', () => connection.quit()],
  ['redis (rate limits)', () => limitsConnection.quit()],
  ['store', () => store.close()],
]);
