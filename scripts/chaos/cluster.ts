/**
 * Scenario h: 300 jobs on a local Redis Cluster (3 masters, 3 replicas) with a master failover
 * mid-load; all 300 complete. It needs two things this suite does not own: cluster support in the
 * gateway (`REDIS_CLUSTER_NODES`) and a helper that starts a local cluster,
 * test/helpers/redisCluster.ts. Until both exist the scenario reports SKIP with the reason.
 *
 * The helper is expected to export `startRedisCluster(): Promise<LocalCluster>` (below); if its
 * shape differs, adapt `openCluster` only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ROOT } from '../../libs/devkit/processes.ts';
import { deferCleanup } from '../bench/cleanup.ts';
import type { ChaosContext } from './harness.ts';
import { chaosConfig, chaosSubmissions, describeCounts, settle, statusCounts, submitLoad } from './harness.ts';
import { startTestGateway } from '../../test/helpers/gateway.ts';
import { check, outcomeOf, type ScenarioResult } from './verdict.ts';

/** A running local cluster, as this scenario uses it. */
export interface LocalCluster {
  /** `host:port` of every node, for REDIS_CLUSTER_NODES. */
  nodes: string[];
  /** Promotes a replica of one master (CLUSTER FAILOVER); resolves once the new master serves. */
  failover(): Promise<void>;
  /** Stops every node and deletes their directories. */
  cleanup(): Promise<void>;
}

const HELPER = 'test/helpers/redisCluster.ts';

/** Why the scenario cannot run on this tree, or null when it can. */
export function clusterMissing(root = ROOT): string | null {
  if (!existsSync(`${root}${HELPER}`)) return `${HELPER} is absent on this branch (cluster support is built elsewhere)`;
  if (!readFileSync(`${root}libs/config/env.ts`, 'utf8').includes('REDIS_CLUSTER_NODES')) return 'the gateway does not read REDIS_CLUSTER_NODES on this branch';
  return null;
}

async function openCluster(): Promise<LocalCluster> {
  const helper = (await import(`${ROOT}${HELPER}`)) as { startRedisCluster?: () => Promise<LocalCluster> };
  if (typeof helper.startRedisCluster !== 'function') throw new Error(`${HELPER} exports no startRedisCluster()`);
  return helper.startRedisCluster();
}

/** Scenario h. */
export async function clusterFailover(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const jobs = 300;
  const did = `${jobs} jobs on a 3+3 Redis Cluster, a master failover mid-load`;
  const missing = clusterMissing();
  if (missing) return { id: 'h', did, checks: [], outcome: 'SKIP', note: missing };
  const cluster = await openCluster();
  const dropCluster = deferCleanup('redis cluster', () => cluster.cleanup());
  try {
    const gw = await startTestGateway({
      workers: 2,
      env: { REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_URL: `redis://${cluster.nodes[0]}` },
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 200 } }, anthropic: { latency: { kind: 'fixed', ms: 200 } } },
      editConfig: (c) => chaosConfig(c, { monthly_usd: 100_000 }),
    });
    const stopGateway = deferCleanup('gateway', () => gw.stop());
    try {
      const loading = submitLoad(gw.client, chaosSubmissions('h', jobs));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await cluster.failover();
      ctx.say('failover done');
      const submitted = await loading;
      const settled = await settle(gw.client, submitted.ids, { timeoutMs: 180_000, idleMs: 60_000 });
      const counts = statusCounts(settled);
      const checks = [
        check('accepted', `${submitted.ids.length} (${submitted.refused.length} refused)`, `= ${jobs}`, submitted.ids.length === jobs),
        check('completed', `${counts.completed ?? 0} (${describeCounts(counts)})`, `= ${jobs}`, (counts.completed ?? 0) === jobs),
      ];
      return { id: 'h', did, checks, outcome: outcomeOf(checks) };
    } finally {
      await stopGateway();
    }
  } finally {
    await dropCluster();
  }
}
