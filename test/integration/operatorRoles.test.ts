/**
 * Operator roles on the real API app and a real Redis: the viewer token opens Bull Board (its
 * page and every read of its API) in read-only mode with the personal fields of job data redacted
 * as the feature config says, while every change it tries (Bull Board's and the gateway's own)
 * answers 403 `forbidden_for_viewer` and leaves the queues as they were; the admin token still
 * sees everything and may do everything.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job, type Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AuditEntry } from '../../libs/audit/auditLog.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { WEBHOOK_QUEUE } from '../../libs/webhooks/queue.ts';
import type { WebhookJobData } from '../../libs/webhooks/types.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';

const ADMIN = `admin-${randomUUID()}`;
const VIEWER = `viewer-${randomUUID()}`;
const R = '[redacted]';
const keys = { alice: 'alice-key-roles-0123456789' };
const REDIS_URL = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

let api: InProcessApi<'alice'>;
let queue: Queue<LlmJobData>;
let webhooks: Queue<WebhookJobData>;
const audit: AuditEntry[] = [];
/** Job ids by the state the test put them in. */
const ids = { failed: randomUUID(), completed: randomUUID(), delayed: randomUUID(), submitted: '', delivery: `msg_${randomUUID()}` };

const jobData = (i: number, answer?: string): LlmJobData => {
  const body = careerSubmission(i) as { input: Record<string, unknown>; user_id: string; metadata: Record<string, unknown> };
  return {
    clientId: 'alice',
    feature: 'career_path_navigator',
    input: { ...body.input, goals: `goal of person ${i}`, location: 'Leeds, UK' },
    userId: body.user_id,
    callbackUrl: null,
    metadata: { email: `person${i}@example.com` },
    createdAt: new Date().toISOString(),
    ...(answer
      ? { answer: { text: answer, holdId: null, costMicros: 10, servedBy: 'provider', cache: 'miss', degraded: false, attempts: [], provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, finishReason: 'stop', providerLatencyMs: 1, startedAt: new Date().toISOString() } }
      : {}),
  } as LlmJobData;
};

/** Takes the next waiting job by hand (no processor) and finishes it as `finish` says. */
async function finishNext(worker: Worker, expectedId: string, finish: (job: Job, token: string) => Promise<unknown>): Promise<void> {
  const token = randomUUID();
  const job = (await worker.getNextJob(token)) as Job | undefined;
  expect(job?.id).toBe(expectedId);
  await finish(job!, token);
}

beforeAll(async () => {
  api = await startInProcessApi({ name: 'roles', keys, adminToken: ADMIN, viewerToken: VIEWER, webhookQueue: true, audit: { record: (e) => audit.push(e as AuditEntry) } });
  queue = api.queue;
  webhooks = api.webhooks!;
  // A failed and a completed job, taken by hand from the queue: no worker process runs here.
  await queue.add('llm', jobData(1), { jobId: ids.failed, attempts: 1 });
  await queue.add('llm', jobData(2, 'Dear person 2, your plan is ...'), { jobId: ids.completed });
  const worker = new Worker(LLM_QUEUE, null, { connection: { host: REDIS_URL.hostname, port: Number(REDIS_URL.port || 6379) }, prefix: queuePrefix(api.prefix), autorun: false });
  try {
    await finishNext(worker, ids.failed, (job, token) => job.moveToFailed(new Error('provider_unavailable: test'), token, false));
    await finishNext(worker, ids.completed, (job, token) => job.moveToCompleted({ status: 'completed', costMicros: 10 }, token, false));
  } finally {
    await worker.close();
  }
  await queue.add('llm', jobData(3), { jobId: ids.delayed, delay: 3_600_000 });
  const submitted = await api.client('alice').request<{ id: string }>('POST', '/v1/jobs', { ...careerSubmission(4), metadata: { email: 'person4@example.com' } });
  expect(submitted.status).toBe(202);
  ids.submitted = submitted.body.id;
  const data = { id: ids.submitted, feature: 'career_path_navigator', user_id: 'user-4', callback_url: 'https://rails.example/hooks', metadata: { email: 'person4@example.com' }, result: { text: 'Dear person 4' } };
  await webhooks.add('deliver', { jobId: ids.submitted, clientId: 'alice', webhookId: ids.delivery, url: 'https://rails.example/hooks', payload: { type: 'job.completed', timestamp: new Date().toISOString(), data } }, { jobId: ids.delivery, delay: 3_600_000 });
}, 30_000);

afterAll(() => api?.stop());

const call = (token: string, path: string, method = 'GET', body?: unknown) =>
  fetch(`${api.baseUrl}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

type BoardJob = { id: string; data: Record<string, unknown>; returnValue: unknown };
/** The value at a dotted path of a parsed JSON document. */
const at = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
const boardJob = async (token: string, queueName: string, id: string): Promise<BoardJob> => {
  const answer = await call(token, `/queues/api/queues/${queueName}/${id}`);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { job: BoardJob }).job;
};

const states = async () => ({
  failed: await queue.getJobState(ids.failed),
  completed: await queue.getJobState(ids.completed),
  delayed: await queue.getJobState(ids.delayed),
  submitted: await queue.getJobState(ids.submitted),
  delivery: await webhooks.getJobState(ids.delivery),
  paused: [await queue.isPaused(), await webhooks.isPaused()],
});

describe('the viewer token', () => {
  test('opens the board page (Basic auth, as a browser sends it) and every read of its API', async () => {
    const page = await fetch(`${api.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from(`ops:${VIEWER}`).toString('base64')}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    for (const path of [
      '/queues/api/queues?activeQueue=llm-jobs&status=latest&page=1&jobsPerPage=50',
      '/queues/api/redis/stats',
      `/queues/api/queues/${LLM_QUEUE}/${ids.completed}`,
      `/queues/api/queues/${LLM_QUEUE}/${ids.failed}/logs`,
      `/queues/api/queues/${WEBHOOK_QUEUE}/${ids.delivery}`,
      // The dashboard and its data.
      '',
      '/api/summary',
    ]) {
      const answer = await call(VIEWER, path);
      expect(answer.status, path).toBe(200);
    }
  });

  test('sees every queue in read-only mode', async () => {
    const answer = await call(VIEWER, '/queues/api/queues?activeQueue=llm-jobs&status=latest&page=1&jobsPerPage=50');
    const { queues } = (await answer.json()) as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean; jobs: BoardJob[] }[] };
    expect(queues.map((q) => [q.name, q.readOnlyMode, q.allowRetries]).sort()).toEqual([
      [LLM_QUEUE, true, false],
      [WEBHOOK_QUEUE, true, false],
    ]);
    // The job list redacts as the job view does.
    const listed = queues.find((q) => q.name === LLM_QUEUE)!.jobs;
    expect(listed.map((j) => j.id).sort()).toEqual([ids.completed, ids.delayed, ids.failed, ids.submitted].sort());
    for (const job of listed) expect(at(job.data, 'input.current_role')).toBe(R);
  });

  test("sees the job data with the feature's personal fields redacted", async () => {
    const completed = await boardJob(VIEWER, LLM_QUEUE, ids.completed);
    const input = jobData(2).input;
    expect(completed.data.input).toEqual({ ...input, current_role: R, degree: { level: at(input, 'degree.level'), field: R }, skills: R, goals: R, location: R });
    expect(completed.data.metadata).toBe(R);
    expect(at(completed.data, 'answer.text')).toBe(R);
    expect(at(completed.data, 'answer.provider')).toBe('openai');
    expect(completed.returnValue).toEqual({ status: 'completed', costMicros: 10 });
    // A job as the API queued it.
    const submitted = await boardJob(VIEWER, LLM_QUEUE, ids.submitted);
    expect(at(submitted.data, 'input.current_role')).toBe(R);
    expect(at(submitted.data, 'input.target_sector')).toBe(at(careerSubmission(4), 'input.target_sector'));
    expect(submitted.data.metadata).toBe(R);
    // A webhook delivery carries the public job: its metadata and answer are redacted too.
    const delivery = await boardJob(VIEWER, WEBHOOK_QUEUE, ids.delivery);
    expect(at(delivery.data, 'payload.data.metadata')).toBe(R);
    expect(at(delivery.data, 'payload.data.result.text')).toBe(R);
    expect(JSON.stringify([completed, submitted, delivery])).not.toMatch(/example\.com|Dear person|Leeds|goal of person/);
  });

  // Every change Bull Board's API offers, and the gateway's own; none may reach the queues.
  const changes: [string, string, string, unknown?][] = [
    ['retry a job', 'PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.failed}/retry`],
    ['retry all', 'PUT', `/queues/api/queues/${LLM_QUEUE}/retry/failed`],
    ['clean all completed', 'PUT', `/queues/api/queues/${LLM_QUEUE}/clean/completed`],
    ['promote a job', 'PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.delayed}/promote`],
    ['promote all', 'PUT', `/queues/api/queues/${LLM_QUEUE}/promote`],
    ['delete a job', 'PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.completed}/clean`],
    ['pause a queue', 'PUT', `/queues/api/queues/${LLM_QUEUE}/pause`],
    ['resume a queue', 'PUT', `/queues/api/queues/${LLM_QUEUE}/resume`],
    ['pause all', 'PUT', '/queues/api/queues/pause'],
    ['resume all', 'PUT', '/queues/api/queues/resume'],
    ['empty a queue', 'PUT', `/queues/api/queues/${LLM_QUEUE}/empty`],
    ['obliterate a queue', 'PUT', `/queues/api/queues/${WEBHOOK_QUEUE}/obliterate`],
    ['add a job', 'POST', `/queues/api/queues/${LLM_QUEUE}/add`, { name: 'llm', data: {} }],
    ['update job data', 'PATCH', `/queues/api/queues/${LLM_QUEUE}/${ids.delayed}/update-data`, { data: {} }],
    ['change a delay', 'PATCH', `/queues/api/queues/${LLM_QUEUE}/${ids.delayed}/delay`, { delay: 0 }],
    ['set concurrency', 'PUT', `/queues/api/queues/${LLM_QUEUE}/concurrency`, { concurrency: 1 }],
    ['replay a webhook', 'POST', `/webhooks/${ids.submitted}/replay`],
    ['POST anywhere under /admin', 'POST', '/anything'],
    ['DELETE anywhere under /admin', 'DELETE', `/queues/api/queues/${LLM_QUEUE}/${ids.completed}`],
  ];
  test.each(changes)('cannot %s: 403 forbidden_for_viewer', async (_what, method, path, body) => {
    const before = await states();
    const answer = await call(VIEWER, path, method, body);
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('forbidden_for_viewer');
    expect(await states()).toEqual(before);
  });

  test('the audit log names the role of each login and refused change', () => {
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'viewer', action: 'admin_login', outcome: 'success' }));
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'viewer', action: 'bull_board_action', target: `/api/queues/${LLM_QUEUE}/retry/failed`, outcome: 'failure', details: { method: 'PUT', status: 403, code: 'forbidden_for_viewer' } }));
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'viewer', action: 'webhook_replay', outcome: 'failure' }));
    expect(JSON.stringify(audit)).not.toContain(VIEWER);
  });
});

describe('the admin token', () => {
  test('sees the job data whole, on a board that is not read-only', async () => {
    const completed = await boardJob(ADMIN, LLM_QUEUE, ids.completed);
    expect(completed.data).toEqual(JSON.parse(JSON.stringify({ ...jobData(2, 'Dear person 2, your plan is ...'), createdAt: at(completed.data, 'createdAt'), answer: { ...jobData(2, 'x').answer, text: 'Dear person 2, your plan is ...', startedAt: at(completed.data, 'answer.startedAt') } })));
    const { queues } = (await (await call(ADMIN, '/queues/api/queues')).json()) as { queues: { readOnlyMode: boolean }[] };
    expect(queues.every((q) => !q.readOnlyMode)).toBe(true);
  });

  test('may still do everything', async () => {
    const ok = async (method: string, path: string, body?: unknown) => {
      const answer = await call(ADMIN, path, method, body);
      expect(answer.status, `${method} ${path}`).toBeLessThan(300);
    };
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/pause`);
    expect(await queue.isPaused()).toBe(true);
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/resume`);
    expect(await queue.isPaused()).toBe(false);
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.delayed}/promote`);
    expect(await queue.getJobState(ids.delayed)).toBe('waiting');
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.failed}/retry`);
    expect(await queue.getJobState(ids.failed)).toBe('waiting');
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/${ids.completed}/clean`);
    expect(await queue.getJob(ids.completed)).toBeUndefined();
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/clean/completed`);
    await ok('PUT', `/queues/api/queues/${LLM_QUEUE}/retry/failed`);
    // No delivery was dead-lettered for this job: the replay gets as far as looking for it.
    const replay = await call(ADMIN, `/webhooks/${ids.submitted}/replay`, 'POST');
    expect(replay.status).toBe(404);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('webhook_not_found');
    expect(audit).toContainEqual(expect.objectContaining({ actor: 'admin', action: 'bull_board_action', target: `/api/queues/${LLM_QUEUE}/pause`, outcome: 'success' }));
  });

  test('a wrong token is 401 and no role', async () => {
    const answer = await call('not-a-token', '/queues/api/queues');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('Basic');
  });
});
