/**
 * The batch lane of a worker process, wired: the lane's Redis state, one batch client per provider
 * (built on first use from the running config), the pipeline's view of it, and the lane's clock.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RedisClient } from '../redis/client.ts';
import type { ConfigHolder } from '../config/watch.ts';
import type { GatewayEnv } from '../config/env.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';
import type { SharedBreaker } from '../resilience/sharedBreaker.ts';
import type { BatchProviderClient } from '../providers/batch/types.ts';
import { createBatchClient } from '../providers/batchRegistry.ts';
import type { BatchLaneDeps } from '../pipeline/batchLane.ts';
import { BatchStore } from './batchStore.ts';
import { startBatchLane, type BatchLaneClock } from './scheduler.ts';

/** What the worker gives its batch lane. */
export interface WorkerLaneOptions {
  connection: RedisClient;
  /** A BullMQ-ready connection for the lane's scheduler. */
  queueConnection: RedisClient;
  /** The braced queue prefix. */
  prefix: string;
  config: ConfigHolder;
  env: GatewayEnv;
  budget: BudgetStore;
  breaker: Pick<SharedBreaker, 'state'>;
  /** The LLM jobs queue: a job whose batch ended is promoted there. */
  llmQueue: Queue;
  log: Logger;
}

/** Starts the worker's batch lane; answers what the pipeline needs and the lane's clock. */
export function startWorkerBatchLane(o: WorkerLaneOptions): { lane: BatchLaneDeps; clock: BatchLaneClock } {
  const store = new BatchStore(o.connection, o.prefix);
  const clients = new Map<string, BatchProviderClient | null>();
  // Keyed by the provider's endpoint too: a config reload that moves it gets a new client.
  const client = (name: string): BatchProviderClient | undefined => {
    const settings = o.config.current().providers.providers[name];
    if (!settings) return undefined;
    const key = `${name}\n${settings.kind}\n${settings.base_url}`;
    if (!clients.has(key)) {
      try {
        clients.set(key, createBatchClient(name, settings, o.env));
      } catch (err) {
        o.log.warn({ err, provider: name }, 'no batch client for this provider: its jobs ride the realtime lane');
        clients.set(key, null);
      }
    }
    return clients.get(key) ?? undefined;
  };
  const wake = async (jobId: string) => {
    const job = await o.llmQueue.getJob(jobId);
    // Not delayed any more (it ran on its own, or was cancelled): nothing to cut short.
    await job?.promote().catch(() => undefined);
  };
  const clock = startBatchLane({
    connection: o.queueConnection,
    prefix: o.prefix,
    config: o.config,
    tick: { store, client, budget: o.budget, wake, log: o.log, breakerOpen: async (provider) => (await o.breaker.state(provider)).state === 'open' },
  });
  return { lane: { store, hasClient: (provider) => client(provider) !== undefined }, clock };
}
