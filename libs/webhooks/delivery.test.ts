import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { UnrecoverableError, type Job } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { classifyAttempt, processWebhookJob, statusAfter, type WebhookDeliveryDeps } from './delivery.ts';
import type { WebhookRequest } from './send.ts';
import type { WebhookAttempt, WebhookJobData, WebhookStateFields } from './types.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const data: WebhookJobData = {
  jobId: 'j1',
  clientId: 'alice',
  webhookId: 'msg_j1',
  url: 'https://hooks.example.com/in',
  payload: { type: 'job.completed', timestamp: '2025-01-01T00:00:00.000Z', data: { id: 'j1', status: 'completed' } },
};
const fakeJob = (attemptsMade: number, attempts = 3, d = data) => ({ data: d, attemptsMade, opts: { attempts } }) as unknown as Job<WebhookJobData>;

function harness(answer: (req: WebhookRequest) => Promise<{ status: number }>, overrides: Partial<WebhookDeliveryDeps> = {}) {
  const records: { attempt: WebhookAttempt; state: WebhookStateFields }[] = [];
  const sent: WebhookRequest[] = [];
  const deps: WebhookDeliveryDeps = {
    secrets: (c) => (c === 'alice' ? [secret] : []),
    allowlist: [],
    recordAttempt: async (_id, attempt, state) => void records.push({ attempt, state }),
    send: async (req) => (sent.push(req), answer(req)),
    now: () => new Date(),
    ...overrides,
  };
  return { deps, records, sent };
}

describe('classifyAttempt and statusAfter', () => {
  test.each([
    [200, 'delivered'], [204, 'delivered'], [410, 'gone'], [302, 'retry'], [500, 'retry'], [404, 'retry'], [429, 'retry'],
  ] as const)('status %i is %s', (status, kind) => expect(classifyAttempt(status).kind).toBe(kind));

  test('no answer: retried unless configuration must change first', () => {
    expect(classifyAttempt(0, { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })).toMatchObject({ kind: 'retry', error: expect.stringMatching(/^webhook_connection_failed/) });
    expect(classifyAttempt(0, { code: 'webhook_timeout', message: 'late' })).toMatchObject({ kind: 'retry', error: 'webhook_timeout: late' });
    expect(classifyAttempt(0, { code: 'webhook_secret_missing', message: 'none' }).kind).toBe('permanent');
    expect(classifyAttempt(0, { code: 'callback_url_forbidden', message: 'x' }).kind).toBe('permanent');
  });

  test('the last failed attempt dead-letters; 410 stops as failed_permanently', () => {
    expect(statusAfter({ kind: 'retry' }, false)).toBe('pending');
    expect(statusAfter({ kind: 'retry' }, true)).toBe('dead_letter');
    expect(statusAfter({ kind: 'gone' }, false)).toBe('failed_permanently');
    expect(statusAfter({ kind: 'permanent' }, false)).toBe('dead_letter');
    expect(statusAfter({ kind: 'delivered' }, true)).toBe('delivered');
  });
});

describe('processWebhookJob', () => {
  test('signs, posts the payload and records a delivered attempt', async () => {
    const h = harness(async () => ({ status: 202 }));
    await expect(processWebhookJob(fakeJob(0), h.deps)).resolves.toEqual({ status: 'delivered', httpStatus: 202 });
    const req = h.sent[0]!;
    expect(JSON.parse(req.body)).toEqual(data.payload);
    expect(req).toMatchObject({ timeoutMs: 10_000, allowlisted: false });
    expect(new Webhook(secret).verify(req.body, req.headers)).toEqual(data.payload);
    expect(h.records[0]).toMatchObject({ attempt: { status: 202 }, state: { webhook_id: 'msg_j1', status: 'delivered', delivered_at: expect.any(String) } });
    expect(h.records[0]!.attempt.error).toBeUndefined();
  });

  test('a 500 is retried (pending), and dead-lettered on the last attempt', async () => {
    const h = harness(async () => ({ status: 500 }));
    await expect(processWebhookJob(fakeJob(0), h.deps)).rejects.toThrow(/webhook_http_error/);
    await expect(processWebhookJob(fakeJob(2), h.deps)).rejects.toThrow(/webhook_http_error/);
    expect(h.records.map((r) => r.state.status)).toEqual(['pending', 'dead_letter']);
  });

  test('410 stops at once with an UnrecoverableError', async () => {
    const h = harness(async () => ({ status: 410 }));
    await expect(processWebhookJob(fakeJob(0), h.deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(h.records[0]!.state.status).toBe('failed_permanently');
  });

  test('a client without a secret gets nothing sent, and the delivery is dead-lettered', async () => {
    const h = harness(async () => ({ status: 200 }));
    const job = fakeJob(0, 3, { ...data, clientId: 'bob' });
    await expect(processWebhookJob(job, h.deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(h.sent).toHaveLength(0);
    expect(h.records[0]).toMatchObject({ attempt: { status: 0, error: expect.stringMatching(/^webhook_secret_missing/) }, state: { status: 'dead_letter' } });
  });

  test('a URL refused at delivery (allowlist changed) is dead-lettered without a request', async () => {
    const h = harness(async () => ({ status: 200 }));
    const job = fakeJob(0, 3, { ...data, url: 'http://127.0.0.1:1/in' });
    await expect(processWebhookJob(job, h.deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(h.sent).toHaveLength(0);
    expect(h.records[0]!.attempt.error).toMatch(/^callback_url_insecure/);
  });

  test('a delivery already marked delivered is not sent again', async () => {
    const h = harness(async () => ({ status: 200 }), {
      loadState: async () => ({ webhook_id: 'msg_j1', url: data.url, status: 'delivered', attempts: [], delivered_at: 'x' }),
    });
    await expect(processWebhookJob(fakeJob(0), h.deps)).resolves.toEqual({ status: 'already_delivered' });
    expect(h.sent).toHaveLength(0);
  });
});

describe('processWebhookJob logs', () => {
  const capture = () => {
    const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
    const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
    return { lines, log: { info: at('info'), warn: at('warn') } as unknown as NonNullable<WebhookDeliveryDeps['log']> };
  };
  const withRequest = { ...data, url: 'https://hooks.example.com/in?token=secret-in-query', requestId: 'rails-123' };

  test('every attempt with host, status, attempt and duration (never the query); the end of the delivery once', async () => {
    const { lines, log } = capture();
    const ended: unknown[] = [];
    const h = harness(async () => ({ status: 500 }), { log, onEnded: (e) => ended.push(e) });
    await expect(processWebhookJob(fakeJob(0, 2, withRequest), h.deps)).rejects.toThrow('webhook_http_error');
    expect(ended).toEqual([]);
    // The last attempt: BullMQ moves the job to its failed set (the dead letter) after it throws.
    await expect(processWebhookJob(fakeJob(1, 2, withRequest), h.deps)).rejects.toThrow('webhook_http_error');
    expect(lines.map((l) => [l.level, l.fields.event, l.fields.attempt, l.fields.outcome])).toEqual([
      ['warn', 'webhook_attempt', 1, 'pending'],
      ['warn', 'webhook_dead_letter', 2, 'dead_letter'],
    ]);
    expect(lines[1]!.fields).toMatchObject({ jobId: 'j1', requestId: 'rails-123', host: 'hooks.example.com', httpStatus: 500, durationMs: expect.any(Number) });
    expect(JSON.stringify(lines)).not.toContain('secret-in-query');
    expect(ended).toEqual([{ jobId: 'j1', webhookId: 'msg_j1', requestId: 'rails-123', status: 'dead_letter', attempts: 2, httpStatus: 500, error: 'webhook_http_error: status 500.' }]);
  });

  test('a delivered attempt logs at info and ends the delivery', async () => {
    const { lines, log } = capture();
    const ended: { status: string }[] = [];
    const h = harness(async () => ({ status: 200 }), { log, onEnded: (e) => ended.push(e) });
    await processWebhookJob(fakeJob(0, 3, withRequest), h.deps);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([['info', 'webhook delivered']]);
    expect(ended.map((e) => e.status)).toEqual(['delivered']);
  });
});
