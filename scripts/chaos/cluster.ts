/**
 * Scenario h: 300 jobs on a local Redis Cluster (3 masters, 3 replicas, started for the run) with a
 * failover of the queue's master mid-load; all 300 complete, each stored once. The gateway is told
 * of one node only, one that does not own the queue's slot, so it must follow the cluster's map.
 */
import { randomUUID } from 'node:crypto';
import { startRedisCluster } from '../../test/helpers/redisCluster.ts';
import { deferCleanup } from '../bench/cleanup.ts';
import type { ChaosContext } from './harness.ts';
import { RetryingClient, chaosConfig, chaosSubmissions, describeCounts, settle, statusCounts, submitLoad } from './harness.ts';
import { startTestGateway } from '../../test/helpers/gateway.ts';
import { check, outcomeOf, type ScenarioResult } from './verdict.ts';

/** Scenario h. */
export async function clusterFailover(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const jobs = 300;
  const did = `${jobs} jobs on a 3+3 Redis Cluster, a master failover mid-load`;
  const cluster = await startRedisCluster();
  const dropCluster = deferCleanup('redis cluster', () => cluster.cleanup());
  try {
    const prefix = `chaos-h-${randomUUID().slice(0, 8)}`;
    const stranger = await cluster.nodeNotOwning(`{${prefix}}`);
    const gw = await startTestGateway({
      workers: 2,
      env: { GATEWAY_QUEUE_PREFIX: prefix, REDIS_CLUSTER_NODES: `${stranger.host}:${stranger.port}`, REDIS_URL: `redis://${stranger.host}:${stranger.port}` },
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 200 } }, anthropic: { latency: { kind: 'fixed', ms: 200 } } },
      editConfig: (c) => chaosConfig(c, { monthly_usd: 100_000 }),
    });
    const stopGateway = deferCleanup('gateway', () => gw.stop());
    try {
      // A POST that meets the failover answers 503 redis_unavailable (nothing enqueued); clients retry it.
      const client = new RetryingClient(gw.system.apiUrl, gw.system.apiKey);
      const loading = submitLoad(client, chaosSubmissions('h', jobs));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await cluster.failover(`{${prefix}}`);
      ctx.say('failover done');
      const submitted = await loading;
      const settled = await settle(gw.client, submitted.ids, { timeoutMs: 180_000, idleMs: 60_000 });
      const counts = statusCounts(settled);
      const checks = [
        check('accepted', `${submitted.ids.length} (${submitted.refused.length} refused${submitted.refused.length > 0 ? `: ${submitted.refused.map((r) => `${r.status} ${r.code ?? ''}`.trim()).join(', ')}` : ''})`, `= ${jobs}`, submitted.ids.length === jobs),
        check('completed', `${counts.completed ?? 0} (${describeCounts(counts)})`, `= ${jobs}`, (counts.completed ?? 0) === jobs),
      ];
      return { id: 'h', did, checks, outcome: outcomeOf(checks), note: `intake 503s retried: ${client.retried}` };
    } finally {
      await stopGateway();
    }
  } finally {
    await dropCluster();
  }
}
