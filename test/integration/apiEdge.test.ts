/**
 * The API's edge, through the real app on a real Redis: security headers on every kind of answer,
 * separate per-client budgets for reads and submissions, and SSRF refusals of IPv6 forms that
 * embed IPv4 addresses.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Queue } from 'bullmq';
import type { ApiAnswer } from '../../libs/client/gatewayClient.ts';
import type { LlmJobData } from '../../libs/queue/jobs.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';

const ADMIN_TOKEN = 'admin-token-edge-0123456789';
const adminAuth = { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}` };
const clients = ['alice', 'reader', 'other', 'writer'] as const;
const keys = Object.fromEntries(clients.map((c) => [c, `${c}-edge-key-0123456789abcdef`])) as Record<(typeof clients)[number], string>;
// The limiter's clock stands still, so no window rolls over however slowly the test runs.
const NOW = Date.parse('2036-11-25T12:00:00Z');
let api: InProcessApi<(typeof clients)[number]>;
let queue: Queue<LlmJobData>;
let baseUrl: string;
const as = (client: (typeof clients)[number]) => api.client(client);

beforeAll(async () => {
  api = await startInProcessApi({
    name: 'edge',
    keys,
    clientLimits: { reader: { rpm: 5, read_rpm: 5 }, other: { rpm: 5, read_rpm: 5 }, writer: { rpm: 1, read_rpm: 3 } },
    adminToken: ADMIN_TOKEN,
    resolve: async () => ['93.184.216.34'],
    now: () => NOW,
  });
  ({ queue, baseUrl } = api);
});

afterAll(() => api?.stop());

const expectApiHeaders = (headers: Headers) => {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-powered-by')).toBeNull();
  expect(headers.get('cache-control')).toBe('no-store');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
};

describe('security headers', () => {
  test('on a 202, the job answer (200), a 404, a 401, a 400, health and metrics alike', async () => {
    const accepted = await as('alice').request<{ id: string }>('POST', '/v1/jobs', careerSubmission(1));
    expect(accepted.status).toBe(202);
    const job = await as('alice').get(accepted.body.id);
    expect(job.status).toBe(200);
    const missing = await as('alice').get(randomUUID());
    expect(missing.status).toBe(404);
    const noRoute = await as('alice').request('GET', '/v1/nothing-here');
    expect(noRoute.status).toBe(404);
    const anonymous = await fetch(`${baseUrl}/v1/jobs/${accepted.body.id}`);
    expect(anonymous.status).toBe(401);
    const bad = await as('alice').request('POST', '/v1/jobs', '{"feature": ');
    expect(bad.status).toBe(400);
    const health = await fetch(`${baseUrl}/healthz`);
    for (const answer of [accepted, job, missing, noRoute, anonymous, bad, health]) expectApiHeaders(answer.headers);
  });

  test('on /admin: frames refused, no-store, a CSP that runs only Bull Board\'s own assets', async () => {
    const refused = await fetch(`${baseUrl}/admin/queues`);
    expect(refused.status).toBe(401);
    const page = await fetch(`${baseUrl}/admin/queues`, { headers: adminAuth });
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const answer of [refused, page]) {
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('x-powered-by')).toBeNull();
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
    // Every script and stylesheet the page loads is served from the package, same origin.
    const assets = [...html.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const asset of assets) {
      const answer = await fetch(`${baseUrl}/admin/queues/${asset}`, { headers: adminAuth });
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('cache-control')).toBe('no-store');
      await answer.arrayBuffer();
    }
  });
});

describe('per-client read budget', () => {
  const reads = (id: string): Array<[string, string, unknown?]> => [
    ['GET', `/v1/jobs/${id}`],
    ['DELETE', `/v1/jobs/${id}`],
    ['POST', `/v1/jobs/${id}/feedback`, { rating: 5 }],
    ['GET', '/v1/budget'],
    ['GET', '/v1/experiments/career_model_ab/report'],
  ];
  const expectLimited = (answer: ApiAnswer<{ error?: { code: string } }>) => {
    expect(answer.status).toBe(429);
    expect(answer.body.error?.code).toBe('rate_limited');
    // The first read of the frozen minute leaves the window a whole minute later.
    expect(answer.headers.get('retry-after')).toBe('60');
    expectApiHeaders(answer.headers);
  };

  test('every read counts; the one over read_rpm answers 429 with Retry-After; other clients and submissions are unaffected', async () => {
    const reader = as('reader');
    const id = randomUUID();
    for (const [method, path, body] of reads(id)) {
      const answer = await reader.request(method, path, body);
      expect(answer.status, `${method} ${path}`).not.toBe(429);
    }
    for (const [method, path, body] of reads(id)) expectLimited(await reader.request(method, path, body));

    // Another client's reads are its own.
    expect((await as('other').request('GET', '/v1/budget')).status).toBe(200);
    // The reader's submissions have their own budget, untouched by reads.
    const submitted = await reader.request<{ id: string }>('POST', '/v1/jobs', careerSubmission(2));
    expect(submitted.status).toBe(202);
    // ... and a submission spends nothing of the read budget of a client that still has some.
    expect((await as('other').request('POST', '/v1/jobs', careerSubmission(3))).status).toBe(202);
    for (let i = 0; i < 4; i++) expect((await as('other').request('GET', '/v1/budget')).status).toBe(200);
    expectLimited(await as('other').request('GET', '/v1/budget'));
  });

  test('a client over its submission budget can still read', async () => {
    const writer = as('writer');
    const first = await writer.request<{ id: string }>('POST', '/v1/jobs', careerSubmission(4));
    expect(first.status).toBe(202);
    expectLimited(await writer.request('POST', '/v1/jobs', careerSubmission(5)));
    expect((await writer.get(first.body.id)).status).toBe(200);
  });
});

describe('callback URLs that embed a forbidden IPv4 address in IPv6', () => {
  test.each([
    'https://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
    'https://[2002:a9fe:a9fe::]/', // 6to4 of the metadata service
    'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
    'https://[2001:0:808:808:8000:63bf:80ff:fffe]/hook', // Teredo, client 127.0.0.1
    'https://[64:ff9b::a9fe:a9fe]/', // NAT64
    'https://[::ffff:0:a00:1]/', // IPv4-translated 10.0.0.1
    'https://[2606:4700::200:5efe:a9fe:a9fe]/', // ISATAP
  ])('%s answers 400 callback_url_forbidden and queues nothing', async (callback_url) => {
    const before = await queue.count();
    const answer = await as('alice').request<{ error: { code: string } }>('POST', '/v1/jobs', { ...careerSubmission(6), callback_url });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('callback_url_forbidden');
    expect(await queue.count()).toBe(before);
  });
});
