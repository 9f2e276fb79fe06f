/**
 * The API app started inside the test process, on the real Redis under a fresh queue prefix and on
 * a temporary SQLite file, listening on a free port of 127.0.0.1. No worker runs: jobs stay queued.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApp } from '../../apps/api/app.ts';
import { IntakeGuards } from '../../apps/api/guards.ts';
import { ApiKeyRegistry } from '../../libs/auth/apiKeys.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { loadConfig } from '../../libs/config/load.ts';
import type { ClientLimits, GatewayConfig } from '../../libs/config/types.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import type { AuditSink } from '../../libs/audit/auditLog.ts';
import { WEBHOOK_QUEUE } from '../../libs/webhooks/queue.ts';
import type { WebhookJobData } from '../../libs/webhooks/types.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { createApiMetrics } from '../../libs/telemetry/metrics/api.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How one test file wants its API. */
export interface InProcessApiOptions<C extends string> {
  /** Names the queue prefix (`test-<name>-<8 hex>`), the SQLite file and the Redis connection. */
  name: string;
  /** API key of each client id the file uses. */
  keys: Record<C, string>;
  /** Rate limits per client id, laid over the shipped config's `rateLimits.clients`. @defaultValue `{}` (the shipped limits) */
  clientLimits?: Partial<Record<C, ClientLimits>>;
  /** Token of the operator endpoints (/admin); without it or viewerToken they are not mounted. @defaultValue undefined */
  adminToken?: string;
  /** Read-only token of the operator endpoints. @defaultValue undefined */
  viewerToken?: string;
  /** Also show a `webhooks` queue (under the same prefix) in Bull Board and serve replays from it. @defaultValue false */
  webhookQueue?: boolean;
  /** Where operator actions are recorded. @defaultValue undefined (not recorded) */
  audit?: AuditSink;
  /** Serve Prometheus metrics at /metrics. @defaultValue false */
  metrics?: boolean;
  /** Hosts every client may call back despite the SSRF rules. @defaultValue `[]` */
  callbackAllowlist?: string[];
  /** Resolves a host name for the SSRF check, so no test needs the network. @defaultValue real DNS */
  resolve?: (host: string) => Promise<string[]>;
  /** The rate limiter's clock, epoch milliseconds; a frozen one keeps windows from rolling over. @defaultValue `Date.now` */
  now?: () => number;
}

/** A running in-process API and what a test reaches behind it. */
export interface InProcessApi<C extends string> {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  baseUrl: string;
  port: number;
  server: Server;
  /** The unbraced prefix, as `obliterateQueues` and `queuePrefix` take it. */
  prefix: string;
  connection: Redis;
  queue: Queue<LlmJobData>;
  /** The `webhooks` queue, when `webhookQueue` was asked for. */
  webhooks: Queue<WebhookJobData> | undefined;
  store: SqliteJobStore;
  budget: BudgetStore;
  /** The shipped config with `clientLimits` applied, as the app sees it. */
  config: GatewayConfig;
  /** Telemetry lines the API wrote (those of jobs cancelled while queued), oldest first. */
  telemetry: object[];
  /** A fresh client holding `keys[clientId]`. */
  client(clientId: C): GatewayClient;
  /** Closes the server, queue, store and connection, then removes the prefix's keys and the SQLite files. */
  stop(): Promise<void>;
}

/** Starts the API for one test file; call `stop()` in afterAll, even when a test failed. */
export async function startInProcessApi<C extends string>(options: InProcessApiOptions<C>): Promise<InProcessApi<C>> {
  const { name, keys } = options;
  const prefix = `test-${name}-${randomUUID().slice(0, 8)}`;
  const dbPath = join(tmpdir(), `${name}-${randomUUID()}.sqlite`);
  const connection = createRedis(REDIS_URL, `test-${name}`);
  const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection, prefix: queuePrefix(prefix) });
  const webhooks = options.webhookQueue ? new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix: queuePrefix(prefix) }) : undefined;
  const store = new SqliteJobStore(dbPath);
  const budget = new BudgetStore(connection, queuePrefix(prefix));
  const shipped = loadConfig('config');
  const config: GatewayConfig = { ...shipped, rateLimits: { ...shipped.rateLimits, clients: { ...shipped.rateLimits.clients, ...options.clientLimits } } };
  let server: Server | undefined;
  const telemetry: object[] = [];

  const stop = async () => {
    if (server?.listening) {
      const closed = once(server, 'close');
      server.close();
      // A connection a test left open (an aborted upload, a keep-alive socket) must not hold the close.
      server.closeAllConnections();
      await closed;
    }
    await queue.close();
    await webhooks?.close();
    await store.close();
    await connection.quit();
    await obliterateQueues(REDIS_URL, prefix);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
  };

  try {
    await store.init();
    const app = createApp({
      queue,
      store,
      config: () => config,
      redis: connection,
      prefix: queuePrefix(prefix),
      guards: new IntakeGuards({
        config: () => config,
        rateLimiter: new RateLimiter(connection, queuePrefix(prefix), options.now),
        budget,
        callbackAllowlist: options.callbackAllowlist ?? [],
        resolve: options.resolve,
        snapshotTtlMs: 0,
      }),
      budget,
      telemetry: { append: (line: object) => telemetry.push(line) },
      operator:
        options.adminToken || options.viewerToken
          ? {
              adminToken: options.adminToken,
              viewerToken: options.viewerToken,
              config: () => config,
              queues: [queue as Queue, ...(webhooks ? [webhooks as Queue] : [])],
              ...(options.audit ? { audit: options.audit } : {}),
              dashboard: { store, budget, config: () => config, breaker: new SharedBreaker(connection, queuePrefix(prefix)), queue: queue as Queue, alertStates: async () => ({}) },
            }
          : undefined,
      metrics: options.metrics
        ? createApiMetrics({ queue: queue as Queue, budget, breaker: new SharedBreaker(connection, queuePrefix(prefix)), config: () => config })
        : undefined,
      apiKeys: ApiKeyRegistry.fromPairs(Object.entries<string>(keys).map(([clientId, key]) => ({ clientId, key }))),
      ready: async () => true,
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
  } catch (error) {
    await stop();
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  return { baseUrl, port, server, prefix, connection, queue, webhooks, store, budget, config, telemetry, client: (clientId) => new GatewayClient(baseUrl, keys[clientId]), stop };
}
