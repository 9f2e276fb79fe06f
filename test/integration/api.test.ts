import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Queue } from 'bullmq';
import { createApp } from '../../apps/api/app.ts';
import { ApiKeyRegistry } from '../../libs/auth/apiKeys.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { IntakeGuards } from '../../apps/api/guards.ts';
import { submitJob } from '../../apps/api/handlers.ts';
import { createApiMetrics } from '../../libs/telemetry/metrics.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-api-${randomUUID().slice(0, 8)}`;
const dbPath = join(tmpdir(), `api-${randomUUID()}.sqlite`);
const connection = createRedis(REDIS_URL);
const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection, prefix: queuePrefix(prefix) });
const store = new SqliteJobStore(dbPath);
const budget = new BudgetStore(connection, queuePrefix(prefix));
const ADMIN_TOKEN = 'admin-token-0123456789';
// A stand-in for DNS, so the SSRF tests need no network: names that resolve to forbidden addresses.
const RESOLVES: Record<string, string[]> = { 'sneaky.example.com': ['10.1.2.3'], 'metadata.example.com': ['169.254.169.254'], 'public.example.com': ['93.184.216.34'] };
const keys = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef', carol: 'carol-key-0123456789abcdef' };
let server: Server;
let alice: GatewayClient;
let bob: GatewayClient;
let baseUrl: string;

beforeAll(async () => {
  await store.init();
  // Carol has a tiny rate limit, for the rate-limit test.
  const shipped = loadConfig('config');
  const config = { ...shipped, rateLimits: { ...shipped.rateLimits, clients: { ...shipped.rateLimits.clients, carol: { rpm: 3 } } } };
  const app = createApp({
    queue,
    store,
    config: () => config,
    redis: connection,
    prefix: queuePrefix(prefix),
    guards: new IntakeGuards({
      config: () => config,
      rateLimiter: new RateLimiter(connection, queuePrefix(prefix)),
      budget,
      callbackAllowlist: ['receiver.test'],
      resolve: async (host) => RESOLVES[host] ?? ['93.184.216.34'],
      snapshotTtlMs: 0,
    }),
    budget,
    operator: { adminToken: ADMIN_TOKEN, queues: [queue as Queue] },
    metrics: createApiMetrics({ queues: [queue as Queue], budget, breaker: new SharedBreaker(connection, queuePrefix(prefix)), config: () => config }),
    apiKeys: ApiKeyRegistry.fromPairs([
      { clientId: 'alice', key: keys.alice },
      { clientId: 'bob', key: keys.bob },
      { clientId: 'carol', key: keys.carol },
    ]),
    ready: async () => true,
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  alice = new GatewayClient(baseUrl, keys.alice);
  bob = new GatewayClient(baseUrl, keys.bob);
});

afterAll(async () => {
  server?.close();
  await queue.close();
  await store.close();
  connection.disconnect();
  await obliterateQueues(REDIS_URL, prefix);
  rmSync(dbPath, { force: true });
  rmSync(`${dbPath}-wal`, { force: true });
  rmSync(`${dbPath}-shm`, { force: true });
});

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

  const valid = careerSubmission(2) as { input: Record<string, unknown> };
  const bad: Array<[string, unknown, number, string]> = [
    ['malformed JSON', '{"feature": ', 400, 'invalid_json'],
    ['a body that is not an object', '[1,2]', 400, 'invalid_body'],
    ['a missing field', { feature: 'career_path_navigator', input: valid.input }, 400, 'invalid_body'],
    ['an unknown field', { ...valid, surprise: true }, 400, 'invalid_body'],
    ['a wrong type', { ...valid, user_id: 42 }, 400, 'invalid_body'],
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

describe('DELETE /v1/jobs/:id', () => {
  test('cancels a queued job, then answers 409; another client gets 404', async () => {
    const id = await alice.submit(careerSubmission(14));
    expect((await bob.request('DELETE', `/v1/jobs/${id}`)).status).toBe(404);
    const cancelled = await alice.request<{ status: string }>('DELETE', `/v1/jobs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await alice.get(id)).body).toMatchObject({ status: 'cancelled' });
    expect(await queue.getJob(id)).toBeUndefined();
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
    expect(answer.body.month).toMatchObject({ limit_usd: 5000, spent_usd: 0, reserved_usd: 0, forecast_usd: 0 });
    expect(answer.body.day).toMatchObject({ limit_usd: null });
  });
});

describe('GET /metrics', () => {
  test('exports queue depth, budget, breaker state and request counts in Prometheus format', async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/gateway_queue_jobs\{queue="llm-jobs",state="waiting"\} [1-9]/);
    expect(text).toContain('gateway_budget_usd{window="month",kind="limit"} 5000');
    expect(text).toContain('gateway_breaker_state{provider="openai"} 0');
    expect(text).toMatch(/gateway_http_requests_total\{method="POST",route="\/v1\/jobs",status="202"\} [1-9]/);
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
  });
});
