import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Queue, Worker } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { createRedis } from '../../libs/redis/connection.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { processWebhookJob } from '../../libs/webhooks/delivery.ts';
import { enqueueWebhook, replayWebhook, WEBHOOK_QUEUE, webhookIdFor } from '../../libs/webhooks/queue.ts';
import { webhookBackoffStrategy } from '../../libs/webhooks/schedule.ts';
import { getWebhookState, WEBHOOK_STATE_TTL_SECONDS, webhookStateKey, webhookStateStore } from '../../libs/webhooks/stateStore.ts';
import type { WebhookJobData, WebhookState, WebhookStatus } from '../../libs/webhooks/types.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test-webhooks-${randomUUID().slice(0, 8)}`;
const secrets = [`whsec_${randomBytes(24).toString('base64')}`, `whsec_${randomBytes(32).toString('base64')}`];
const connection = createRedis(REDIS_URL, 'webhooks-test');
const workerConnection = createRedis(REDIS_URL, 'webhooks-test-worker');
const queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix: queuePrefix(prefix) });
let worker: Worker<WebhookJobData>;

/** What the receiver saw, per path. */
interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}
const received = new Map<string, Received[]>();
/** Status answered per path, one per request; the last repeats. */
const scripts = new Map<string, number[]>();
const servers: Server[] = [];

async function startReceiver(port = 0): Promise<number> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '';
      received.set(path, [...(received.get(path) ?? []), { headers: req.headers, body }]);
      const script = scripts.get(path) ?? [200];
      const status = script.length > 1 ? script.shift()! : script[0]!;
      if (status >= 300 && status < 400) res.setHeader('location', `${path}/elsewhere`);
      res.writeHead(status).end('ok');
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

let port: number;

beforeAll(async () => {
  port = await startReceiver();
  const states = webhookStateStore(connection, prefix);
  worker = new Worker<WebhookJobData>(
    WEBHOOK_QUEUE,
    (job) => processWebhookJob(job, { secrets: () => secrets, allowlist: ['127.0.0.1'], ...states }),
    {
      connection: workerConnection,
      prefix: queuePrefix(prefix),
      concurrency: 5,
      // A short schedule in place of hours; the production one is tested in schedule.test.ts.
      settings: { backoffStrategy: webhookBackoffStrategy({ delaysMs: [50, 100], jitter: 0 }) },
    },
  );
  await worker.waitUntilReady();
});

afterAll(async () => {
  await worker?.close();
  await queue.obliterate({ force: true });
  await queue.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  connection.disconnect();
  workerConnection.disconnect();
  await obliterateQueues(REDIS_URL, prefix);
});

async function waitForState(jobId: string, done: (s: WebhookState) => boolean, timeoutMs = 10_000): Promise<WebhookState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await getWebhookState(connection, prefix, jobId);
    if (state && done(state)) return state;
    if (Date.now() > deadline) throw new Error(`webhook of ${jobId} did not settle: ${JSON.stringify(state)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
// The state is written before the processor throws, so BullMQ may need a moment to file the job as failed.
async function waitForFailedJob(jobId: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await (await queue.getJob(webhookIdFor(jobId)))?.getState()) !== 'failed') {
    if (Date.now() > deadline) throw new Error(`webhook job of ${jobId} never reached the failed set`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const settled = (...statuses: WebhookStatus[]) => (s: WebhookState) => statuses.includes(s.status);

function send(jobId: string, url: string, attempts = 3): Promise<string> {
  const data = { id: jobId, status: 'completed', result: { text: 'Consider a move into data engineering.' } };
  return enqueueWebhook(queue, { jobId, clientId: 'alice', url, type: 'job.completed', data }, { attempts });
}

describe('webhook delivery through BullMQ to a real receiver', () => {
  test('500, 500, 200: three attempts with one webhook-id, signatures verify with standardwebhooks', async () => {
    const jobId = randomUUID();
    const path = `/a/${jobId}`;
    scripts.set(path, [500, 500, 200]);
    const url = `http://127.0.0.1:${port}${path}`;
    expect(await send(jobId, url)).toBe(`msg_${jobId}`);
    // A second enqueue of the same job is a no-op.
    await send(jobId, url);

    const state = await waitForState(jobId, settled('delivered', 'dead_letter'));
    expect(state).toMatchObject({ webhook_id: `msg_${jobId}`, url, status: 'delivered', delivered_at: expect.any(String) });
    expect(state.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(state.attempts[0]!.error).toMatch(/^webhook_http_error/);

    const hits = received.get(path)!;
    expect(hits).toHaveLength(3);
    expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([`msg_${jobId}`]));
    for (const hit of hits) {
      const headers = hit.headers as Record<string, string>;
      for (const secret of secrets) {
        expect(new Webhook(secret).verify(hit.body, headers)).toMatchObject({ type: 'job.completed', data: { id: jobId } });
      }
      expect(hit.headers['content-type']).toBe('application/json');
    }
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    const ttl = await connection.ttl(webhookStateKey(prefix, jobId));
    expect(ttl).toBeGreaterThan(WEBHOOK_STATE_TTL_SECONDS - 60);
  });

  test('a receiver that is down ends in dead_letter; a replay then delivers with the same webhook-id', async () => {
    const down = await startReceiver();
    const downServer = servers.pop()!;
    downServer.close();
    await once(downServer, 'close');

    const jobId = randomUUID();
    const path = `/b/${jobId}`;
    await send(jobId, `http://127.0.0.1:${down}${path}`, 3);
    const dead = await waitForState(jobId, settled('dead_letter', 'delivered'));
    expect(dead.status).toBe('dead_letter');
    expect(dead.attempts).toHaveLength(3);
    expect(dead.attempts.every((a) => a.status === 0 && a.error?.startsWith('webhook_connection_failed'))).toBe(true);
    await waitForFailedJob(jobId);

    await startReceiver(down);
    expect(await replayWebhook(queue, jobId)).toBe(`msg_${jobId}`);
    const delivered = await waitForState(jobId, settled('delivered'));
    expect(delivered.attempts.map((a) => a.status)).toEqual([0, 0, 0, 200]);
    expect(received.get(path)!.map((h) => h.headers['webhook-id'])).toEqual([`msg_${jobId}`]);
    // Nothing left to replay once delivered.
    await expect(replayWebhook(queue, jobId)).rejects.toMatchObject({ code: 'webhook_not_replayable' });
  });

  test('410 Gone stops after one attempt', async () => {
    const jobId = randomUUID();
    const path = `/c/${jobId}`;
    scripts.set(path, [410]);
    await send(jobId, `http://127.0.0.1:${port}${path}`, 5);
    const state = await waitForState(jobId, settled('failed_permanently', 'dead_letter', 'delivered'));
    expect(state.status).toBe('failed_permanently');
    expect(state.attempts).toHaveLength(1);
    expect(state.attempts[0]).toMatchObject({ status: 410, error: expect.stringMatching(/^webhook_gone/) });
    expect(received.get(path)).toHaveLength(1);
  });

  test('a 302 is not followed and counts as a failed attempt', async () => {
    const jobId = randomUUID();
    const path = `/d/${jobId}`;
    scripts.set(path, [302]);
    await send(jobId, `http://127.0.0.1:${port}${path}`, 2);
    const state = await waitForState(jobId, settled('dead_letter', 'delivered'));
    expect(state.status).toBe('dead_letter');
    expect(state.attempts.map((a) => a.status)).toEqual([302, 302]);
    expect(state.attempts[0]!.error).toMatch(/^webhook_redirect_refused/);
    expect(received.get(path)).toHaveLength(2);
    expect(received.get(`${path}/elsewhere`)).toBeUndefined();
  });

  test('replaying a delivery that was never queued answers webhook_not_found', async () => {
    await expect(replayWebhook(queue, randomUUID())).rejects.toMatchObject({ code: 'webhook_not_found', status: 404 });
  });
});
