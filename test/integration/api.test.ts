import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../libs/config/load.ts';
import type { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';
import type { IntakeGuards } from '../../apps/api/guards.ts';
import { submitJob } from '../../apps/api/handlers.ts';
import type { BudgetStore } from '../../libs/budget/budgetStore.ts';
import type { ExperimentReport } from '../../libs/experiments/reportTypes.ts';

const ADMIN_TOKEN = 'admin-token-0123456789';
// A stand-in for DNS, so the SSRF tests need no network: names that resolve to forbidden addresses.
const RESOLVES: Record<string, string[]> = { 'sneaky.example.com': ['10.1.2.3'], 'metadata.example.com': ['169.254.169.254'], 'public.example.com': ['93.184.216.34'] };
const keys = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef', carol: 'carol-key-0123456789abcdef' };
let api: InProcessApi<keyof typeof keys>;
let prefix: string;
let connection: Redis;
let queue: Queue<LlmJobData>;
let store: SqliteJobStore;
let budget: BudgetStore;
let alice: GatewayClient;
let bob: GatewayClient;
let baseUrl: string;

beforeAll(async () => {
  api = await startInProcessApi({
    name: 'api',
    keys,
    // Carol has a tiny rate limit, for the rate-limit test.
    clientLimits: { carol: { rpm: 3 } },
    adminToken: ADMIN_TOKEN,
    metrics: true,
    callbackAllowlist: ['receiver.test'],
    resolve: async (host) => RESOLVES[host] ?? ['93.184.216.34'],
  });
  ({ prefix, connection, queue, store, budget, baseUrl } = api);
  alice = api.client('alice');
  bob = api.client('bob');
});

afterAll(() => api?.stop());

const queued = async () => {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
};

describe('POST /v1/jobs', () => {
  test('accepts a valid submission with 202 and a queued job', async () => {
    const before = await queued();
    const answer = await alice.request<{ id: string; status: string; links: { self: string } }>('POST', '/v1/jobs', careerSubmission(1));
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('queued');
    expect(answer.body.links.self).toBe(`/v1/jobs/${answer.body.id}`);
    expect(await queued()).toBe(before + 1);
    const job = await alice.get(answer.body.id);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ id: answer.body.id, status: 'queued', feature: 'career_path_navigator' });
    expect(job.body).not.toHaveProperty('client_id');
  });

  test('a deadline_s is kept as the deadline_at of the job, and a new job shows its lane', async () => {
    const answer = await alice.request<{ id: string }>('POST', '/v1/jobs', { ...careerSubmission(3), deadline_s: 3600 });
    expect(answer.status).toBe(202);
    const job = (await alice.get(answer.body.id)).body as unknown as { created_at: string; deadline_at: string; lane: string };
    expect(Date.parse(job.deadline_at) - Date.parse(job.created_at)).toBe(3_600_000);
    expect(job.lane).toBe('realtime');
  });

  const valid = careerSubmission(2) as { input: Record<string, unknown> };
  const bad: Array<[string, unknown, number, string]> = [
    ['malformed JSON', '{"feature": ', 400, 'invalid_json'],
    ['a body that is not an object', '[1,2]', 400, 'invalid_body'],
    ['a missing field', { feature: 'career_path_navigator', input: valid.input }, 400, 'invalid_body'],
    ['an unknown field', { ...valid, surprise: true }, 400, 'invalid_body'],
    ['a wrong type', { ...valid, user_id: 42 }, 400, 'invalid_body'],
    ['a deadline shorter than a minute', { ...valid, deadline_s: 59 }, 400, 'invalid_body'],
    ['a deadline longer than a week', { ...valid, deadline_s: 604_801 }, 400, 'invalid_body'],
    ['a fractional deadline', { ...valid, deadline_s: 3600.5 }, 400, 'invalid_body'],
    ['a deadline as a string', { ...valid, deadline_s: '3600' }, 400, 'invalid_body'],
    ['an unknown feature', { ...valid, feature: 'horoscope' }, 400, 'unknown_feature'],
    ['input of the wrong type', { ...valid, input: { ...valid.input, years_experience: 'ten' } }, 400, 'invalid_input'],
    ['input missing a required field', { ...valid, input: { ...valid.input, current_role: undefined } }, 400, 'invalid_input'],
    ['input with an unknown field', { ...valid, input: { ...valid.input, favourite_colour: 'blue' } }, 400, 'invalid_input'],
    ['an oversized body', { ...valid, metadata: { note: 'x'.repeat(70_000) } }, 413, 'payload_too_large'],
  ];
  test.each(bad)('refuses %s with a stable code and stores nothing', async (_name, body, status, code) => {
    const before = await queued();
    const answer = await alice.request<{ error: { code: string; message: string; details: unknown[] } }>('POST', '/v1/jobs', body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(10);
    expect(Array.isArray(answer.body.error.details)).toBe(true);
    expect(await queued()).toBe(before);
  });

  test('invalid input names the offending field', async () => {
    const answer = await alice.request<{ error: { details: Array<{ path: string }> } }>('POST', '/v1/jobs', {
      ...valid,
      input: { ...valid.input, years_experience: 'ten' },
    });
    expect(answer.body.error.details.map((d) => d.path).join(' ')).toContain('years_experience');
  });

  test('refuses a body that is not JSON with 415', async () => {
    const answer = await alice.request('POST', '/v1/jobs', 'feature=x', { 'content-type': 'text/plain' });
    expect(answer.status).toBe(415);
    expect((answer.body as { error: { code: string } }).error.code).toBe('unsupported_media_type');
  });

  test.each([
    ['no API key', undefined],
    ['a wrong API key', 'Bearer not-a-real-key-000000000'],
    ['a malformed header', 'Basic abc'],
  ])('answers 401 for %s and stores nothing', async (_name, header) => {
    const before = await queued();
    const response = await fetch(`${baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header ? { authorization: header } : {}) },
      body: JSON.stringify(careerSubmission(3)),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(await queued()).toBe(before);
  });
});

describe('GET /v1/jobs/:id', () => {
  test("another client's job answers 404 like a missing one, queued or stored", async () => {
    const id = await alice.submit(careerSubmission(4));
    const theirs = await bob.get(id);
    expect(theirs.status).toBe(404);
    expect((theirs.body as { error: { code: string } }).error.code).toBe('job_not_found');

    const stored = makeJobRecord({ id: randomUUID(), client_id: 'alice', status: 'completed' });
    await store.save(stored);
    expect((await alice.get(stored.id)).body).toMatchObject({ id: stored.id, status: 'completed' });
    expect((await bob.get(stored.id)).status).toBe(404);
    expect((await alice.get(randomUUID())).status).toBe(404);
  });
});

describe('health', () => {
  test('healthz and readyz answer without a key', async () => {
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body return the same job; another body answers 409; keys are per client', async () => {
    const key = randomUUID();
    const body = careerSubmission(11);
    const first = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    const before = await queued();
    const again = await alice.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(await queued()).toBe(before);

    const other = await alice.request<{ error: { code: string } }>('POST', '/v1/jobs', careerSubmission(12), { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');

    const bobs = await bob.request<{ id: string }>('POST', '/v1/jobs', body, { 'idempotency-key': key });
    expect(bobs.status).toBe(202);
    expect(bobs.body.id).not.toBe(first.body.id);
  });

  test('concurrent submissions with one key make one job', async () => {
    const key = randomUUID();
    const before = await queued();
    const answers = await Promise.all(Array.from({ length: 10 }, () => alice.request<{ id: string }>('POST', '/v1/jobs', careerSubmission(13), { 'idempotency-key': key })));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await queued()).toBe(before + 1);
  });
});

describe('DELETE /v1/jobs/:id of an answered job', () => {
  test('a queued job that already holds a paid answer is not cancelled', async () => {
    const id = randomUUID();
    const answer = { text: 'kept', provider: 'openai' } as unknown as LlmJobData['answer'];
    await queue.add('llm', { clientId: 'alice', feature: 'career_path_navigator', input: {}, userId: 'u', callbackUrl: null, metadata: null, createdAt: new Date().toISOString(), answer }, { jobId: id, delay: 60_000 });
    const answered = await alice.request<{ error: { code: string } }>('DELETE', `/v1/jobs/${id}`);
    expect(answered.status).toBe(409);
    expect(answered.body.error.code).toBe('job_not_cancellable');
    expect(await queue.getJob(id)).toBeDefined();
  });
});

describe('Idempotency-Key when the enqueue fails', () => {
  test('the claim is released, so the retry with the same key is queued', async () => {
    const key = randomUUID();
    let failNext = true;
    const flaky = new Proxy(queue, {
      get(target, prop, receiver) {
        if (prop === 'add' && failNext) {
          failNext = false;
          return async () => {
            throw new Error('Redis went away');
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const deps = { queue: flaky, store, config: () => loadConfig('config'), redis: connection, prefix: queuePrefix(prefix), guards: { rateLimit: async () => {}, budgetOpen: async () => {}, callbackAllowed: async () => {} } as unknown as IntakeGuards };
    await expect(submitJob(deps, 'alice', careerSubmission(50), key)).rejects.toThrow('Redis went away');
    const retried = await submitJob(deps, 'alice', careerSubmission(50), key);
    expect(retried.status).toBe(202);
    expect(retried.headers).not.toHaveProperty('idempotent-replayed');
    expect(await queue.getJob((retried.body as { id: string }).id)).toBeDefined();
  });
});

describe('X-Request-Id', () => {
  test('is echoed on every answer, kept on the job and shown by GET', async () => {
    const answer = await fetch(`${baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.alice}`, 'content-type': 'application/json', 'x-request-id': 'rails-123' },
      body: JSON.stringify(careerSubmission(15)),
    });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-request-id')).toBe('rails-123');
    const { id, request_id } = (await answer.json()) as { id: string; request_id: string };
    expect(request_id).toBe('rails-123');
    expect((await alice.get(id)).body).toMatchObject({ id, request_id: 'rails-123', status: 'queued' });
    expect((await queue.getJob(id))?.data.requestId).toBe('rails-123');
    expect((await store.get('alice', id))?.request_id).toBe('rails-123');
    // Generated when absent, and on errors too.
    const refused = await fetch(`${baseUrl}/v1/jobs/nope`, { headers: { authorization: 'Bearer wrong' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('DELETE /v1/jobs/:id', () => {
  test('cancels a queued job, then answers 409; another client gets 404', async () => {
    const id = await alice.submit(careerSubmission(14));
    expect((await bob.request('DELETE', `/v1/jobs/${id}`)).status).toBe(404);
    const cancelled = await alice.request<{ status: string }>('DELETE', `/v1/jobs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await alice.get(id)).body).toMatchObject({ status: 'cancelled' });
    expect(await queue.getJob(id)).toBeUndefined();
    // The job ended here, not in a worker: the API writes its telemetry line.
    expect(api.telemetry).toContainEqual(expect.objectContaining({ event: 'job_finished', job_id: id, status: 'cancelled' }));
    const twice = await alice.request<{ error: { code: string } }>('DELETE', `/v1/jobs/${id}`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('job_not_cancellable');
  });
});

describe('callback URLs (SSRF)', () => {
  const submitWith = (callback_url: string) => alice.request<{ error?: { code: string } }>('POST', '/v1/jobs', { ...careerSubmission(20), callback_url });
  test.each([
    ['loopback IPv4', 'https://127.0.0.1/hook', 'callback_url_forbidden'],
    ['loopback IPv6', 'https://[::1]/hook', 'callback_url_forbidden'],
    ['a private 10/8 address', 'https://10.0.0.8/hook', 'callback_url_forbidden'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data', 'callback_url_forbidden'],
    ['a name resolving to a private address', 'https://sneaky.example.com/hook', 'callback_url_forbidden'],
    ['a name resolving to the metadata address', 'https://metadata.example.com/hook', 'callback_url_forbidden'],
    ['plain http', 'http://public.example.com/hook', 'callback_url_insecure'],
  ])('refuses %s and stores nothing', async (_name, url, code) => {
    const before = await queued();
    const answer = await submitWith(url);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe(code);
    expect(await queued()).toBe(before);
  });

  test('accepts a public https URL and an allowlisted host', async () => {
    expect((await submitWith('https://public.example.com/hook')).status).toBe(202);
    expect((await submitWith('http://receiver.test:8080/hook')).status).toBe(202);
  });
});

describe('GET /v1/budget', () => {
  test('shows spend, reservations and limits for the month and the day', async () => {
    const answer = await alice.request<{ month: Record<string, unknown>; day: Record<string, unknown> }>('GET', '/v1/budget');
    expect(answer.status).toBe(200);
    expect(answer.body.month).toMatchObject({ limit_usd: 5000, spent_usd: 0, reserved_usd: 0, forecast_usd: 0, exhausts_on: null });
    // Pacing as shipped: off, nothing held back, no demand to forecast.
    expect(answer.body.month).toMatchObject({
      demand_24h_usd: 0,
      demand_forecast_usd: 0,
      forecast_exhausts_on: null,
      today_allowance_usd: expect.any(Number),
      pacing: { enabled: false, curve: 'even', action: 'defer', engaged_today: false, held_today_usd: 0, held_today_jobs: 0 },
    });
    expect(answer.body.day).toMatchObject({ limit_usd: null });
  });
});

describe('GET /metrics', () => {
  test('exports queue depth, budget, breaker state and request counts in Prometheus format', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/gateway_queue_jobs\{state="waiting"\} [1-9]/);
    expect(text).toMatch(/gateway_queue_oldest_waiting_seconds [0-9.]+/);
    expect(text).toContain('gateway_budget_limit_usd 5000');
    expect(text).toContain('gateway_budget_exhausted 0');
    expect(text).toContain('gateway_breaker_state{provider="openai"} 0');
    expect(text).toMatch(/gateway_http_request_duration_seconds_count\{method="POST",route="\/v1\/jobs",status="202"\} [1-9]/);
  });
});

describe('operator endpoints', () => {
  test('need the admin token', async () => {
    expect((await fetch(`${baseUrl}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/admin/queues`, { headers: { authorization: `Bearer ${keys.alice}` } })).status).toBe(401);
    const board = await fetch(`${baseUrl}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}` } });
    expect(board.status).toBe(200);
    expect(await board.text()).toContain('<html');
  });
});

describe('client rate limit', () => {
  test('the submission over the per-minute limit answers 429 with Retry-After and stores nothing', async () => {
    const carol = new GatewayClient(baseUrl, keys.carol);
    for (let i = 0; i < 3; i++) expect((await carol.request('POST', '/v1/jobs', careerSubmission(30 + i))).status).toBe(202);
    const before = await queued();
    const over = await carol.request<{ error: { code: string } }>('POST', '/v1/jobs', careerSubmission(33));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await queued()).toBe(before);
  });
});

describe('POST /v1/jobs/:id/feedback', () => {
  type FeedbackAnswer = { job_id: string; rating: number; helpful: boolean | null; comment: string | null; created_at: string };
  type ErrorAnswer = { error: { code: string; message: string; details: Array<{ path: string; message: string }> } };
  const storedJob = async (overrides: Partial<ReturnType<typeof makeJobRecord>> = {}) => {
    const job = makeJobRecord({ id: randomUUID(), client_id: 'alice', experiment: { id: 'career_model_ab', variant: 'gpt4' }, served_by: 'provider', ...overrides });
    await store.save(job);
    return job;
  };
  const rate = (client: GatewayClient, id: string, body: unknown) => client.request<FeedbackAnswer & ErrorAnswer>('POST', `/v1/jobs/${id}/feedback`, body);

  test('rates a completed job with 201; a second rating replaces the first', async () => {
    const job = await storedJob();
    const first = await rate(alice, job.id, { rating: 4, helpful: true, comment: 'Useful — merci' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ job_id: job.id, rating: 4, helpful: true, comment: 'Useful — merci', created_at: expect.any(String) });
    expect(Date.parse(first.body.created_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.getFeedback('alice', job.id)).toMatchObject({ rating: 4, helpful: true });

    const second = await rate(alice, job.id, { rating: 2 });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ job_id: job.id, rating: 2, helpful: null, comment: null });
    expect(await store.getFeedback('alice', job.id)).toMatchObject({ rating: 2, helpful: null, comment: null });
  });

  test.each([
    ['no rating', { helpful: true }, '/'],
    ['a rating of 0', { rating: 0 }, '/rating'],
    ['a rating of 6', { rating: 6 }, '/rating'],
    ['a fractional rating', { rating: 3.5 }, '/rating'],
    ['a rating as a string', { rating: '5' }, '/rating'],
    ['helpful as a string', { rating: 5, helpful: 'yes' }, '/helpful'],
    ['a comment over 2000 characters', { rating: 5, comment: 'x'.repeat(2001) }, '/comment'],
    ['an unknown field', { rating: 5, stars: 5 }, '/'],
  ])('refuses %s with 400 invalid_body naming the field, and stores nothing', async (_name, body, path) => {
    const job = await storedJob();
    const answer = await rate(alice, job.id, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_body');
    expect(answer.body.error.details.map((d) => d.path)).toContain(path);
    expect(await store.getFeedback('alice', job.id)).toBeNull();
  });

  test('refuses malformed JSON and a body that is not JSON', async () => {
    const job = await storedJob();
    expect((await rate(alice, job.id, '{"rating": ')).body.error.code).toBe('invalid_json');
    const text = await alice.request<ErrorAnswer>('POST', `/v1/jobs/${job.id}/feedback`, 'rating=5', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
  });

  test("answers 404 job_not_found for another client's job, exactly like an unknown one", async () => {
    const job = await storedJob();
    const theirs = await rate(bob, job.id, { rating: 1 });
    const unknown = await rate(alice, randomUUID(), { rating: 1 });
    expect([theirs.status, unknown.status]).toEqual([404, 404]);
    expect(theirs.body.error.code).toBe('job_not_found');
    expect(unknown.body.error.code).toBe('job_not_found');
    expect(await store.getFeedback('bob', job.id)).toBeNull();
    expect(await store.getFeedback('alice', job.id)).toBeNull();
  });

  test('answers 409 job_not_completed for a queued, failed or still-queued job', async () => {
    const queuedRecord = await storedJob({ status: 'queued', result: null, completed_at: null });
    const failed = await storedJob({ status: 'failed', result: null, error: { code: 'provider_unavailable', message: 'down' } });
    const inQueue = await alice.submit(careerSubmission(60));
    for (const id of [queuedRecord.id, failed.id, inQueue]) {
      const answer = await rate(alice, id, { rating: 5 });
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('job_not_completed');
      expect(await store.getFeedback('alice', id)).toBeNull();
    }
    // Another client's queued job is still a 404.
    expect((await rate(bob, inQueue, { rating: 5 })).status).toBe(404);
  });
});

describe('GET /v1/experiments/:id/report', () => {
  type ReportAnswer = ExperimentReport;
  const ratingTest = (report: ReportAnswer) => report.comparisons[0]?.tests.find((t) => t.metric === 'rating');
  const carol = () => new GatewayClient(baseUrl, keys.carol);

  test("analyses the client's jobs of the experiment: counts, model-only means and Welch's comparison", async () => {
    const recent = new Date(Date.now() - 3_600_000).toISOString();
    const job = (variant: string, overrides: Partial<ReturnType<typeof makeJobRecord>> = {}) =>
      makeJobRecord({ id: randomUUID(), client_id: 'carol', experiment: { id: 'career_model_ab', variant }, served_by: 'provider', created_at: recent, latency_ms: { queue: 5, provider: 1500, total: 1600 }, ...overrides });
    // 30 answers from each model: gpt4 rated 5/3 (mean 4), claude rated 4/2 (mean 3).
    const gpt4 = Array.from({ length: 30 }, () => job('gpt4', { provider: 'openai', model: 'gpt-4' }));
    const claude = Array.from({ length: 30 }, () => job('claude'));
    // Not the variant's own model: their ratings must not count.
    const failover = [job('claude', { served_by: 'failover', provider: 'openai' }), job('claude', { served_by: 'failover', provider: 'openai' })];
    const cached = job('gpt4', { served_by: 'cache', cache: 'hit', cost_usd: 0 });
    const failed = job('gpt4', { status: 'failed', served_by: null, result: null, usage: null, cost_usd: null, error: { code: 'provider_unavailable', message: 'down' } });
    const old = job('gpt4', { created_at: new Date(Date.now() - 60 * 86_400_000).toISOString() });
    await store.saveMany([...gpt4, ...claude, ...failover, cached, failed, old]);
    const feedback = (j: ReturnType<typeof makeJobRecord>, rating: number) => ({ job_id: j.id, client_id: 'carol', rating, helpful: null, comment: null, created_at: recent });
    // A few through the API, the rest straight into the store.
    for (const [i, j] of gpt4.slice(0, 4).entries()) expect((await carol().request('POST', `/v1/jobs/${j.id}/feedback`, { rating: i % 2 ? 3 : 5 })).status).toBe(201);
    for (const [i, j] of gpt4.entries()) if (i >= 4) await store.saveFeedback(feedback(j, i % 2 ? 3 : 5));
    for (const [i, j] of claude.entries()) await store.saveFeedback(feedback(j, i % 2 ? 2 : 4));
    for (const j of [...failover, cached, old]) await store.saveFeedback(feedback(j, 1));

    const answer = await carol().request<ReportAnswer>('GET', '/v1/experiments/career_model_ab/report');
    expect(answer.status).toBe(200);
    expect(answer.body.experiment).toBe('career_model_ab');
    expect(Date.parse(answer.body.since)).toBeCloseTo(Date.now() - 30 * 86_400_000, -5);
    expect(answer.body.note).toContain('served_by = provider');
    const [a, b] = answer.body.variants;
    expect(a).toMatchObject({ variant: 'gpt4', jobs: 32, completed: 31, failed: 1, rejected: 0, served_by: { provider: 30, cache: 1 }, rating: { n: 30, mean: { estimate: 4 } }, provider_latency_ms: { p50: { estimate: 1500 } } });
    expect(b).toMatchObject({ variant: 'claude', jobs: 32, completed: 32, failed: 0, served_by: { provider: 30, failover: 2 }, rating: { n: 30, mean: { estimate: 3 } } });
    expect(answer.body.comparisons[0]).toMatchObject({ a: 'gpt4', b: 'claude' });
    expect(ratingTest(answer.body)).toMatchObject({ test: 'welch_t', difference: expect.closeTo(1, 9), winner: 'gpt4' });
    expect(ratingTest(answer.body)!.p_value!).toBeLessThan(0.001);
    expect(answer.body.verdict.text).toContain('gpt4 is rated higher by 1');

    // An older `since` brings the old job in; another client sees none of carol's jobs.
    const wider = await carol().request<ReportAnswer>('GET', `/v1/experiments/career_model_ab/report?since=${new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10)}`);
    expect(wider.body.variants[0]).toMatchObject({ variant: 'gpt4', jobs: 33 });
    const bobs = await bob.request<ReportAnswer>('GET', '/v1/experiments/career_model_ab/report');
    expect(bobs.status).toBe(200);
    expect(bobs.body.variants.map((v) => v.jobs)).toEqual([0, 0]);
    expect(ratingTest(bobs.body)).toMatchObject({ p_value: null, winner: null });
  });

  test('answers 404 experiment_not_found for an experiment not in the running config', async () => {
    for (const id of ['no_such_experiment', 'constructor']) {
      const answer = await alice.request<{ error: { code: string } }>('GET', `/v1/experiments/${id}/report`);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('experiment_not_found');
    }
  });

  test('answers 400 invalid_query for a since that is not an ISO date', async () => {
    const answer = await alice.request<{ error: { code: string; details: Array<{ path: string }> } }>('GET', '/v1/experiments/career_model_ab/report?since=last-week');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_query');
    expect(answer.body.error.details[0]?.path).toBe('since');
  });
});

// Last in the file: it spends the whole monthly budget of this test's prefix.
describe('budget exhausted at intake', () => {
  test('once the hard cap is reached, submissions answer 429 budget_exhausted with Retry-After', async () => {
    const limitMicros = 5000 * 1_000_000;
    const hold = await budget.reserve({ holdId: 'spend-it-all', amountMicros: limitMicros, limits: { monthlyMicros: limitMicros, dailyMicros: null }, ttlMs: 60_000 });
    expect(hold.ok).toBe(true);
    await budget.settle('spend-it-all', limitMicros);
    const before = await queued();
    const answer = await alice.request<{ error: { code: string } }>('POST', '/v1/jobs', careerSubmission(40));
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('budget_exhausted');
    const retryAfter = Number(answer.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(31 * 24 * 3600);
    expect(await queued()).toBe(before);
    // The month's budget is spent: it ran out today (a day read on either side of the request).
    const days = [new Date().toISOString().slice(0, 10)];
    const shown = await alice.request<{ month: { exhausts_on: string | null } }>('GET', '/v1/budget');
    days.push(new Date().toISOString().slice(0, 10));
    expect(days).toContain(shown.body.month.exhausts_on);
  });
});
