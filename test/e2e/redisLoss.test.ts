/**
 * Redis losing its data loses no accepted job and forgets no spend. The gateway runs on a private
 * redis-server without persistence, with paid jobs flowing; the server is killed and started again
 * empty while some jobs are finished, some running and some still waiting. Afterwards every
 * accepted job completes (the worker queues again what the store holds and Redis lost), the
 * month's spend is at least what it was before the loss (rebuilt from the finished jobs' costs),
 * and an Idempotency-Key used before the loss still answers its own job.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { payingConfig } from '../helpers/budget.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/privateRedis.ts';

const JOBS = 40;

let redis: PrivateRedis;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startPrivateRedis();
  gw = await startTestGateway({
    // Few workers slots and slow answers: when Redis is lost, most jobs are still waiting.
    env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '4' },
    simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 300 } }, anthropic: { latency: { kind: 'fixed', ms: 300 } } },
    editConfig: (c) => {
      payingConfig(c, { monthly_usd: 100_000, daily_usd: null });
      c.edit('rate_limits.json', (json) => {
        json.clients.default.read_rpm = 1_000_000;
      });
    },
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await redis?.cleanup();
});

/** The month's spend in the private Redis, micro-dollars. */
async function monthSpent(): Promise<number> {
  const connection = createRedis(redis.url, 'loss-test-budget');
  try {
    return (await new BudgetStore(connection, queuePrefix(gw.system.queuePrefix)).snapshot()).month.spent;
  } finally {
    connection.disconnect();
  }
}

const submission = (n: number) => ({ ...careerSubmission(n), user_id: `loss-${n}` });

describe('Redis restarted empty mid-run', () => {
  test('every accepted job completes, month spend does not go down, Idempotency-Keys still answer their jobs', async () => {
    const keys = new Map<number, string>();
    const ids: string[] = [];
    for (let n = 0; n < JOBS; n++) {
      const key = n % 2 === 0 ? `loss-${randomUUID()}` : undefined;
      if (key) keys.set(n, key);
      const answer = await gw.client.request<{ id: string }>('POST', '/v1/jobs', submission(n), key ? { 'idempotency-key': key } : {});
      expect(answer.status).toBe(202);
      ids.push(answer.body.id);
    }

    // Some jobs paid and finished, most not yet.
    const finished = async () => {
      const answers = await Promise.all(ids.map((id) => gw.client.get(id)));
      return new Set(ids.filter((_, i) => answers[i]!.body.status === 'completed'));
    };
    await eventually(async () => (await finished()).size >= 4, 60_000, 'the first finished jobs');
    const doneBeforeLoss = await finished();
    const spentBefore = await monthSpent();
    expect(spentBefore).toBeGreaterThan(0);

    await redis.stop();
    await redis.start();
    expect(doneBeforeLoss.size).toBeLessThan(JOBS);

    // A key used before the loss answers its own job, not a new one.
    const [n, key] = [...keys.entries()].at(-1)!;
    let replay: { status: number; id?: string; replayed: string | null } = { status: 0, replayed: null };
    await eventually(
      async () => {
        const answer = await gw.client.request<{ id?: string }>('POST', '/v1/jobs', submission(n), { 'idempotency-key': key });
        replay = { status: answer.status, id: answer.body.id, replayed: answer.headers.get('idempotent-replayed') };
        return answer.status !== 503;
      },
      20_000,
      'the API to reach Redis again',
    );
    expect(replay).toEqual({ status: 202, id: ids[n], replayed: 'true' });
    const reused = await gw.client.request<{ error: { code: string } }>('POST', '/v1/jobs', submission(n + 1000), { 'idempotency-key': keys.get(0)! });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('idempotency_key_reused');

    const done = await gw.client.waitForAll(ids, { timeoutMs: 120_000, concurrency: 20 });
    const statuses = [...done.values()].map((j) => j.status);
    expect(statuses.filter((s) => s !== 'completed')).toEqual([]);
    expect(done.size).toBe(JOBS);

    const spentAfter = await monthSpent();
    expect(spentAfter).toBeGreaterThanOrEqual(spentBefore);
    // Every finished job's cost is counted: those finished before the rebuild are summed from the
    // store, a job running at the loss (its hold went with Redis) ran again and paid into the
    // rebuilt windows. No job was submitted after the loss, so none seeded the windows earlier.
    const paid = ids.reduce((sum, id) => sum + Math.round(Number(done.get(id)!.cost_usd) * 1e6), 0);
    expect(spentAfter).toBeGreaterThanOrEqual(paid);
    console.log(JSON.stringify({ jobs: JOBS, done_before_loss: doneBeforeLoss.size, spent_before_micros: spentBefore, spent_after_micros: spentAfter, paid_micros: paid }));
  }, 240_000);
});
