/**
 * The whole gateway on a Redis Cluster of its own (3 masters, 3 replicas), told of ONE node that
 * does not own the queue's slot: the cluster client finds the owner, and a failover of that owner
 * in the middle of the load loses no job and stores each once.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedisCluster, type FailoverResult, type RedisCluster } from '../helpers/redisCluster.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { Redis } from 'ioredis';
import { keyPatterns } from '../../libs/redis/keys.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';

const JOBS = 300;
/** Jobs accepted before the failover starts. */
const BEFORE_FAILOVER = 100;
/** At most this many more are submitted while it runs; the rest after it. */
const DURING_FAILOVER = 150;
/** Concurrent submitters. */
const LANES = 10;

let cluster: RedisCluster | undefined;
let gw: TestGateway | undefined;
const prefix = `gw-cluster-${randomUUID().slice(0, 8)}`;
const dbPath = join(tmpdir(), `gw-cluster-${randomUUID()}.sqlite`);
/** The gateway's warnings and errors, printed if the test fails (a failure under load is otherwise hard to read). */
const complaints: string[] = [];
let passed = false;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const entry = await cluster.nodeNotOwning(`{${prefix}}`);
  gw = await startTestGateway({
    env: {
      REDIS_CLUSTER_NODES: `${entry.host}:${entry.port}`,
      GATEWAY_QUEUE_PREFIX: prefix,
      DATABASE_URL: dbPath,
      WORKER_CONCURRENCY: '100',
    },
    onLine: (process, line) => {
      if (/"level":(40|50|60)/.test(line) || !line.startsWith('{')) complaints.push(`${process}: ${line.slice(0, 400)}`);
    },
  });
  // Calls long enough that jobs are in flight while the master changes, short enough to keep the test quick.
  await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 500 } }, anthropic: { latency: { kind: 'fixed', ms: 500 } } });
}, 90_000);

afterAll(async () => {
  if (!passed) console.error(`[redisCluster] the gateway said:\n${complaints.slice(-40).join('\n')}`);
  try {
    await gw?.stop();
    // stop() removed the run's keys from the cluster, on every master.
    if (cluster && gw) expect(await keysLeft(cluster, queuePrefix(prefix))).toEqual([]);
  } finally {
    await cluster?.cleanup();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
}, 60_000);

async function keysLeft(c: RedisCluster, braced: string): Promise<string[]> {
  const left: string[] = [];
  for (const node of c.nodes) {
    const redis = new Redis({ host: node.host, port: node.port, lazyConnect: true });
    try {
      for (const pattern of keyPatterns(braced)) left.push(...(await redis.keys(pattern)));
    } finally {
      redis.disconnect();
    }
  }
  return left;
}

/**
 * POSTs submission `n` until it is accepted: a 503 (Redis did not answer in time, as during a
 * failover) is retried after its Retry-After with the same Idempotency-Key, so it makes one job.
 */
async function submit(n: number): Promise<{ id: string; refused: number }> {
  const key = `cluster-${prefix}-${n}`;
  for (let refused = 0; refused < 20; refused++) {
    const answer = await gw!.client.request<{ id?: string }>('POST', '/v1/jobs', { ...careerSubmission(n), user_id: `cluster-${n}` }, { 'idempotency-key': key });
    if (answer.status === 202 && answer.body.id) return { id: answer.body.id, refused };
    if (answer.status !== 503) throw new Error(`POST ${n} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after') ?? 1) * 250));
  }
  throw new Error(`POST ${n} was refused 20 times`);
}

/** Submits jobs `from`, `from + 1`, ... below `to` from LANES lanes, until `to` or until `stop()` says so. */
async function submitRange(from: number, to: number, stop: () => boolean = () => false): Promise<Array<{ id: string; refused: number }>> {
  let next = from;
  const out: Array<{ id: string; refused: number }> = [];
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < to && !stop()) out.push(await submit(next++));
  }));
  return out;
}

const readyz = async () => (await fetch(`${gw!.system.apiUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status;

describe('the gateway on a Redis Cluster', () => {
  test(`${JOBS} jobs with a failover of the queue's master mid-load: every job completes, stored once`, async () => {
    // The API listens before its cluster client has learnt the slots; until then it is rightly not ready.
    await eventually(async () => (await readyz()) === 200, 15_000, '/readyz 200 on the healthy cluster');
    const startedAt = Date.now();
    const before = await submitRange(0, BEFORE_FAILOVER);
    // Jobs keep arriving (and running) while the queue's master changes, and after.
    let failover: FailoverResult | undefined;
    const [during] = await Promise.all([
      submitRange(BEFORE_FAILOVER, BEFORE_FAILOVER + DURING_FAILOVER, () => failover !== undefined),
      cluster!.failover(`{${prefix}}`).then((f) => (failover = f)),
    ]);
    const after = await submitRange(BEFORE_FAILOVER + during.length, JOBS);
    const submitted = [...before, ...during, ...after];
    const ids = submitted.map((s) => s.id);
    expect(new Set(ids).size).toBe(JOBS);

    const jobs = await gw!.client.waitForAll(ids, { timeoutMs: 90_000 });
    const statuses = [...jobs.values()].map((j) => j.status);
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(JOBS);
    await cluster!.waitHealthy();
    // Bounded, as readiness allows each check 800 ms, which a busy machine may exceed once.
    await eventually(async () => (await readyz()) === 200, 10_000, '/readyz 200 after the failover');

    // The store: one record per job, each completed with its answer.
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const rows = db.prepare(`SELECT id, status, json_extract(doc, '$.result.text') AS text FROM jobs WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as Array<{ id: string; status: string; text: string | null }>;
      expect(rows).toHaveLength(JOBS);
      expect(rows.filter((r) => r.status === 'completed' && r.text)).toHaveLength(JOBS);
    } finally {
      db.close();
    }
    const calls = await gw!.simulator.calls();
    const calledTwice = ids.filter((id) => (calls.by_job[id]?.openai ?? 0) + (calls.by_job[id]?.anthropic ?? 0) > 1).length;
    console.info(
      `[redisCluster] ${JOBS} of ${JOBS} completed in ${Date.now() - startedAt} ms; failover of slot ${failover?.slot} ${failover?.from.port} -> ${failover?.to.port}; ` +
        `${during.length} jobs submitted during it, ${after.length} after; ${submitted.filter((s) => s.refused > 0).length} POSTs retried after a 503; ${calledTwice} jobs called a provider more than once`,
    );
    passed = true;
  }, 150_000);
});
