import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pino from 'pino';
import type { Queue } from 'bullmq';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { budgetDeferredKey, recordWaiting, waitingKey, type Waiting } from '../../libs/jobs/waiting.ts';
import { onBudgetChange, startBudgetDeferredSweep, takeBudgetDeferred } from '../../libs/jobs/budgetDeferred.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';
import type { GatewayClient } from '../../libs/client/gatewayClient.ts';

const keys = { alice: 'alice-key-0123456789abcdef' };
let api: InProcessApi<keyof typeof keys>;
let alice: GatewayClient;
let prefix: string;

beforeAll(async () => {
  api = await startInProcessApi({ name: 'honest-status', keys });
  alice = api.client('alice');
  prefix = queuePrefix(api.prefix);
});
afterAll(() => api?.stop());

/** A job of alice's put straight into the delayed set, as a worker's delay leaves it. */
async function delayedJob(delayMs: number): Promise<{ id: string; dueAt: number }> {
  const id = randomUUID();
  const before = Date.now();
  const job = await api.queue.add('llm', { clientId: 'alice', feature: 'career_path_navigator', input: {}, userId: 'u1', callbackUrl: null, metadata: null, createdAt: new Date().toISOString() }, { jobId: id, delay: delayMs });
  expect(await job.getState()).toBe('delayed');
  const score = await api.connection.zscore(`${prefix}:llm-jobs:delayed`, id);
  const dueAt = Math.floor(Number(score) / 0x1000);
  expect(dueAt).toBeGreaterThanOrEqual(before + delayMs);
  return { id, dueAt };
}

const waitingOf = async (id: string) => ((await alice.get(id)).body as { status: string; waiting: Waiting | null });

describe('GET /v1/jobs/:id says why a queued job waits', () => {
  test('a job in line waits for nothing', async () => {
    const id = await alice.submit(careerSubmission(1));
    expect(await waitingOf(id)).toMatchObject({ status: 'queued', waiting: null });
  });

  test('a delayed job with no recorded reason is in backoff, until its due time', async () => {
    const { id, dueAt } = await delayedJob(60_000);
    expect(await waitingOf(id)).toEqual(expect.objectContaining({ status: 'queued', waiting: { reason: 'backoff', until: new Date(dueAt).toISOString() } }));
  });

  test.each(['budget', 'rate_limit', 'retry_after'] as const)('a delay recorded as %s reads so', async (reason) => {
    const { id, dueAt } = await delayedJob(3_600_000);
    await recordWaiting(api.connection, prefix, id, reason, dueAt);
    expect((await waitingOf(id)).waiting).toEqual({ reason, until: new Date(dueAt).toISOString() });
    // The record expires on its own shortly after the delay ends.
    const expiresAt = await api.connection.pexpiretime(waitingKey(prefix, id));
    expect(expiresAt).toBeGreaterThan(dueAt);
    expect(expiresAt).toBeLessThanOrEqual(dueAt + 120_000);
  });
});

describe('an idempotent replay answers the job as it is now', () => {
  test('still queued: 202, queued, with its waiting field', async () => {
    const key = randomUUID();
    const body = careerSubmission(2);
    const first = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    const again = await alice.request<{ id: string; status: string; waiting: unknown; links: { self: string } }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, status: 'queued', waiting: null, links: { self: `/v1/jobs/${first.body.id}` } });
  });

  test('finished: its real status and result, not "queued"', async () => {
    const key = randomUUID();
    const body = careerSubmission(3);
    const first = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    const queued = (await api.store.get('alice', first.body.id))!;
    await (await api.queue.getJob(first.body.id))?.remove();
    const { intake: _intake, ...finished } = { ...queued, ...makeJobRecord({ id: queued.id, client_id: 'alice' }), idempotency_fingerprint: queued.idempotency_fingerprint };
    await api.store.save(finished);
    const again = await alice.request<Record<string, unknown>>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ id: first.body.id, status: 'completed', result: finished.result, waiting: null });
    expect(again.body).not.toHaveProperty('client_id');
    expect(again.body).not.toHaveProperty('idempotency_fingerprint');
  });
});

describe('jobs deferred by the budget', () => {
  const config = (monthly: number) => ({ rateLimits: { budget: { monthly_usd: monthly } } }) as unknown as GatewayConfig;
  const log = pino({ level: 'silent' });

  test('a reload that changes the budget promotes them at once, once', async () => {
    const deferred = await delayedJob(3_600_000);
    const other = await delayedJob(3_600_000);
    await recordWaiting(api.connection, prefix, deferred.id, 'budget', deferred.dueAt, { budgetDeferred: true });
    await recordWaiting(api.connection, prefix, other.id, 'rate_limit', other.dueAt);
    expect(await api.connection.smembers(budgetDeferredKey(prefix))).toEqual([deferred.id]);

    const observer = onBudgetChange({ queue: api.queue as Queue, redis: api.connection, prefix, log });
    // Reloads that leave the budget alone, or were refused, change nothing.
    expect(observer({ applied: true, previous: config(5), config: config(5) })).toBeNull();
    expect(observer({ applied: false, error: new Error('bad') as never })).toBeNull();
    expect(await api.connection.scard(budgetDeferredKey(prefix))).toBe(1);

    expect(await observer({ applied: true, previous: config(5), config: config(50) })).toBe(1);
    expect(await (await api.queue.getJob(deferred.id))!.getState()).toBe('waiting');
    expect(await (await api.queue.getJob(other.id))!.getState()).toBe('delayed');
    expect((await waitingOf(deferred.id)).waiting).toBeNull();
    // Taken: a second worker seeing the same reload promotes nothing.
    expect(await takeBudgetDeferred(api.connection, prefix)).toEqual([]);
    expect(await observer({ applied: true, previous: config(50), config: config(60) })).toBe(0);
  });

  test('a deferred job that is gone or no longer delayed is skipped', async () => {
    const gone = await delayedJob(3_600_000);
    await recordWaiting(api.connection, prefix, gone.id, 'budget', gone.dueAt, { budgetDeferred: true });
    await (await api.queue.getJob(gone.id))!.remove();
    const waiting = await alice.submit(careerSubmission(4));
    await api.connection.sadd(budgetDeferredKey(prefix), waiting);
    const observer = onBudgetChange({ queue: api.queue as Queue, redis: api.connection, prefix, log });
    expect(await observer({ applied: true, previous: config(5), config: config(50) })).toBe(0);
    expect(await api.connection.scard(budgetDeferredKey(prefix))).toBe(0);
  });

  test('the periodic sweep promotes them once the budget admits a job, not before', async () => {
    const deferred = await delayedJob(3_600_000);
    await recordWaiting(api.connection, prefix, deferred.id, 'budget', deferred.dueAt, { budgetDeferred: true });
    let admits = false;
    const sweeper = startBudgetDeferredSweep({ queue: api.queue as Queue, redis: api.connection, prefix, log, admits: async () => admits, intervalMs: 3_600_000 });
    try {
      expect(await sweeper.sweep()).toBe(0);
      expect(await (await api.queue.getJob(deferred.id))!.getState()).toBe('delayed');
      expect(await api.connection.scard(budgetDeferredKey(prefix))).toBe(1);
      admits = true;
      expect(await sweeper.sweep()).toBe(1);
      expect(await (await api.queue.getJob(deferred.id))!.getState()).toBe('waiting');
      // Nothing deferred: the sweep does not even ask the budget.
      admits = false;
      expect(await sweeper.sweep()).toBe(0);
    } finally {
      sweeper.stop();
    }
  });
});
