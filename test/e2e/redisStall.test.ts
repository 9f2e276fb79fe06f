/**
 * A stalled Redis makes the API fail fast, and loses or invents nothing. The gateway runs on a
 * private redis-server with jobs flowing; `CLIENT PAUSE 10000 ALL` stalls it (connections stay
 * open, nothing is answered). Every POST during the pause answers within 3 s (503
 * `redis_unavailable` with Retry-After), /readyz answers 503 within a second, /metrics answers;
 * afterwards every accepted job completes, and no submission answered 503 ever becomes a job.
 */
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix } from '../../libs/queue/jobs.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { payingConfig } from '../helpers/budget.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/privateRedis.ts';

const PAUSE_MS = 10_000;
/** Submissions in flight at once, all through the run. */
const LANES = 6;

interface Post {
  n: number;
  key: string | undefined;
  startedAt: number;
  ms: number;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  id: string | undefined;
}

interface Probe {
  path: string;
  startedAt: number;
  ms: number;
  status: number;
  body: string;
}

let redis: PrivateRedis;
let gw: TestGateway;
const lines: Array<{ process: string; line: string }> = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  gw = await startTestGateway({
    env: { REDIS_URL: redis.url, WORKER_CONCURRENCY: '20', LOG_LEVEL: 'info' },
    simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 50 } }, anthropic: { latency: { kind: 'fixed', ms: 50 } } },
    editConfig: (c) => {
      payingConfig(c, { monthly_usd: 100_000, daily_usd: null });
      c.edit('rate_limits.json', (json) => {
        json.clients.default.read_rpm = 1_000_000;
      });
    },
    onLine: (process, line) => lines.push({ process, line }),
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await redis?.cleanup();
});

/** POSTs submission `n`, half of them with an Idempotency-Key; times the answer. */
async function post(n: number, key = n % 2 === 0 ? `stall-${randomUUID()}` : undefined): Promise<Post> {
  const startedAt = Date.now();
  const answer = await gw.client.request<{ id?: string; error?: { code: string } }>('POST', '/v1/jobs', { ...careerSubmission(n), user_id: `stall-${n}` }, key ? { 'idempotency-key': key } : {});
  return { n, key, startedAt, ms: Date.now() - startedAt, status: answer.status, code: answer.body.error?.code, retryAfter: answer.headers.get('retry-after'), id: answer.body.id };
}

async function probe(path: string): Promise<Probe> {
  const startedAt = Date.now();
  const response = await fetch(`${gw.system.apiUrl}${path}`, { signal: AbortSignal.timeout(15_000) });
  const body = await response.text();
  return { path, startedAt, ms: Date.now() - startedAt, status: response.status, body };
}

/**
 * Job ids wherever a job leaves a trace: still in the queue (any state; a completed one leaves it
 * after an hour, or sooner), called at the provider (the simulator's count by job), and in the store.
 */
async function jobsEverywhere(): Promise<{ queued: string[]; called: string[]; stored: string[] }> {
  const connection = createRedis(redis.url, 'stall-test-count');
  const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(gw.system.queuePrefix) });
  try {
    const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized'], 0, -1);
    const calls = (await (await fetch(`${gw.system.simulatorUrl}/admin/calls`)).json()) as { by_job: Record<string, unknown> };
    const called = Object.keys(calls.by_job).filter((id) => !id.startsWith('category-'));
    const db = new DatabaseSync(String(gw.system.env.DATABASE_URL), { readOnly: true });
    try {
      const rows = db.prepare('SELECT id FROM jobs').all() as Array<{ id: string }>;
      return { queued: jobs.filter((j) => !j.id?.startsWith('category-')).map((j) => j.id!), called, stored: rows.map((r) => r.id).filter((id) => !id.startsWith('category-')) };
    } finally {
      db.close();
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

describe('Redis paused for 10 s under load', () => {
  test('POSTs fail fast with 503, /readyz and /metrics answer, no 503 becomes a job, every 202 completes', async () => {
    const posts: Post[] = [];
    const probes: Probe[] = [];
    let n = 0;
    let submitting = true;
    const lanes = Array.from({ length: LANES }, async () => {
      while (submitting) {
        const p = await post(n++);
        posts.push(p);
        // Keep the load steady but bounded: a refused POST is retried by the next loop turn.
        if (p.status !== 202) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    // Jobs flowing before the pause.
    await eventually(async () => posts.filter((p) => p.status === 202).length >= 60, 30_000, '60 accepted jobs');
    const admin = createRedis(redis.url, 'stall-test-admin');
    await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
    const pausedAt = Date.now();
    admin.disconnect();
    const pauseEndsAt = pausedAt + PAUSE_MS;
    // Health and metrics probes, one after another, through the pause.
    while (Date.now() < pauseEndsAt - 2500) {
      probes.push(await probe('/readyz'), await probe('/metrics'));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pauseEndsAt + 3000 - Date.now())));
    submitting = false;
    await Promise.all(lanes);

    // During the pause: every POST answered within 3 s; those well inside it are 503 redis_unavailable with Retry-After.
    const during = posts.filter((p) => p.startedAt >= pausedAt && p.startedAt < pauseEndsAt - 3000);
    const inside = during.filter((p) => p.startedAt >= pausedAt + 200);
    expect(inside.length).toBeGreaterThan(10);
    expect(Math.max(...during.map((p) => p.ms))).toBeLessThan(3000);
    for (const p of inside) {
      expect({ status: p.status, code: p.code }).toEqual({ status: 503, code: 'redis_unavailable' });
      expect(Number(p.retryAfter)).toBeGreaterThan(0);
    }
    const readyz = probes.filter((p) => p.path === '/readyz');
    const metrics = probes.filter((p) => p.path === '/metrics');
    expect(readyz.length).toBeGreaterThan(2);
    for (const p of readyz) {
      expect(p.status).toBe(503);
      expect(JSON.parse(p.body)).toMatchObject({ status: 'not_ready', checks: { redis: 'timeout', store: 'ok' } });
      expect(p.ms).toBeLessThan(1500);
    }
    for (const p of metrics) {
      expect(p.status).toBe(200);
      expect(p.body).toMatch(/^gateway_redis_up 0$/m);
      expect(p.ms).toBeLessThan(3000);
    }

    // A keyed submission answered 503 can be retried with its key: it becomes one job then.
    const retried = await Promise.all(posts.filter((p) => p.status === 503 && p.key).slice(0, 10).map((p) => post(p.n, p.key)));
    expect(retried.map((p) => p.status)).toEqual(retried.map(() => 202));

    // Every accepted job completes; nothing else was ever queued or stored.
    const accepted = [...posts, ...retried].filter((p) => p.status === 202).map((p) => p.id!);
    const done = await gw.client.waitForAll(accepted, { timeoutMs: 120_000, concurrency: 50 });
    expect([...done.values()].filter((j) => j.status !== 'completed')).toEqual([]);
    const { queued, called, stored } = await jobsEverywhere();
    const acceptedSet = new Set(accepted);
    expect(queued.filter((id) => !acceptedSet.has(id))).toEqual([]);
    expect(called.filter((id) => !acceptedSet.has(id))).toEqual([]);
    expect(stored.filter((id) => !acceptedSet.has(id))).toEqual([]);
    expect(new Set(stored).size).toBe(acceptedSet.size);
    const refused = posts.filter((p) => p.status !== 202);
    expect(refused.every((p) => p.status === 503 && p.code === 'redis_unavailable')).toBe(true);

    // The outage is logged once when it starts and once when it ends by the API's connection.
    const apiEvents = lines
      .filter((l) => l.process === 'api' && l.line.startsWith('{'))
      .map((l) => JSON.parse(l.line) as { event?: string; connection?: string; duration_ms?: number })
      .filter((e) => e.event === 'redis_unavailable' || e.event === 'redis_recovered');
    expect(apiEvents.map((e) => e.event)).toEqual(['redis_unavailable', 'redis_recovered']);
    expect(apiEvents[1]!.duration_ms).toBeGreaterThan(PAUSE_MS / 2);

    console.log(
      JSON.stringify({
        posts: posts.length,
        accepted: accepted.length,
        refused_503: refused.length,
        during_pause: during.length,
        max_post_ms_during_pause: Math.max(...during.map((p) => p.ms)),
        max_readyz_ms: Math.max(...readyz.map((p) => p.ms)),
        max_metrics_ms: Math.max(...metrics.map((p) => p.ms)),
        queued: queued.length,
        called: called.length,
        stored: stored.length,
      }),
    );
  }, 240_000);
});
