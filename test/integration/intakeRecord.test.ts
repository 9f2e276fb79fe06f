import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Worker } from 'bullmq';
import { loadConfig } from '../../libs/config/load.ts';
import { queuePrefix, LLM_QUEUE } from '../../libs/queue/jobs.ts';
import { idempotencyClaimKey } from '../../libs/jobs/idempotency.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';
import { submitJob, type ApiDeps } from '../../apps/api/handlers.ts';
import type { IntakeGuards } from '../../apps/api/guards.ts';
import type { GatewayClient } from '../../libs/client/gatewayClient.ts';

const keys = { alice: 'alice-key-0123456789abcdef' };
let api: InProcessApi<keyof typeof keys>;
let alice: GatewayClient;

beforeAll(async () => {
  api = await startInProcessApi({ name: 'intake-record', keys });
  alice = api.client('alice');
});
afterAll(() => api?.stop());

/** Makes Redis forget a job and its Idempotency-Key claim, as a restart without persistence does. */
async function forgetInRedis(id: string): Promise<void> {
  await (await api.queue.getJob(id))?.remove();
  await api.connection.del(idempotencyClaimKey(queuePrefix(api.prefix), id));
}

describe('the intake record', () => {
  test('a 202 means the store holds a queued record with the input, which the API never shows', async () => {
    const body = careerSubmission(1) as { input: Record<string, unknown> };
    const id = await alice.submit(body);
    const stored = await api.store.get('alice', id);
    expect(stored).toMatchObject({ id, status: 'queued', client_id: 'alice', intake: { input: body.input } });
    const shown = await alice.get(id);
    expect(shown.body).toMatchObject({ id, status: 'queued' });
    expect(shown.body).not.toHaveProperty('intake');
    expect(JSON.stringify(shown.body)).not.toContain(String(body.input.current_role));
  });

  test('GET answers the live queue state, not the stored queued record', async () => {
    const id = await alice.submit(careerSubmission(2));
    const worker = new Worker(LLM_QUEUE, null, { connection: api.connection.duplicate(), prefix: queuePrefix(api.prefix), autorun: false });
    try {
      // Takes the next job, as a worker does: it becomes active. Earlier tests' jobs may come first.
      for (let taken = await worker.getNextJob('token'); taken && taken.id !== id; taken = await worker.getNextJob('token'));
      expect((await alice.get(id)).body).toMatchObject({ id, status: 'active' });
    } finally {
      await worker.close();
    }
  });

  test('a submission whose enqueue fails leaves no record behind', async () => {
    let added: string | undefined;
    const failing = new Proxy(api.queue, {
      get(target, prop, receiver) {
        if (prop === 'add') {
          return async (_name: string, _data: unknown, options: { jobId: string }) => {
            added = options.jobId;
            throw new Error('enqueue refused');
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const deps: ApiDeps = {
      queue: failing,
      store: api.store,
      config: () => loadConfig('config'),
      redis: api.connection,
      prefix: queuePrefix(api.prefix),
      guards: { rateLimit: async () => {}, budgetOpen: async () => {}, callbackAllowed: async () => {} } as unknown as IntakeGuards,
    };
    await expect(submitJob(deps, 'alice', careerSubmission(3))).rejects.toThrow('enqueue refused');
    expect(added).toBeDefined();
    expect(await api.store.getMany([added!])).toEqual([]);
  });
});

describe('after Redis lost a job', () => {
  test('GET answers the stored queued record, and DELETE cancels it in the store', async () => {
    const id = await alice.submit(careerSubmission(4));
    await forgetInRedis(id);
    expect((await alice.get(id)).body).toMatchObject({ id, status: 'queued' });
    const cancelled = await alice.request<{ status: string }>('DELETE', `/v1/jobs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const stored = await api.store.get('alice', id);
    expect(stored).toMatchObject({ status: 'cancelled' });
    expect(stored).not.toHaveProperty('intake');
    expect((await alice.request('DELETE', `/v1/jobs/${id}`)).status).toBe(409);
  });

  test('an Idempotency-Key is honoured from the store: the same body replays the job, another answers 409', async () => {
    const key = randomUUID();
    const body = careerSubmission(5);
    const first = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    await forgetInRedis(first.body.id);

    const other = await alice.request<{ error: { code: string } }>('POST', '/v1/jobs', careerSubmission(6), { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    // The claim the refused body took was put back to the job's own body.
    const again = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(await api.queue.getJob(first.body.id)).toBeUndefined();
  });

  test('a finished job keeps its key: its record holds the fingerprint, not the input', async () => {
    const key = randomUUID();
    const body = careerSubmission(7);
    const first = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    const queued = (await api.store.get('alice', first.body.id))!;
    await forgetInRedis(first.body.id);
    const { intake: _intake, ...finished } = { ...queued, ...makeJobRecord({ id: queued.id, client_id: 'alice' }), idempotency_fingerprint: queued.idempotency_fingerprint };
    await api.store.save(finished);
    expect((await alice.request('POST', '/v1/jobs', careerSubmission(8), { 'idempotency-key': key })).status).toBe(409);
    const again = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
  });
});
