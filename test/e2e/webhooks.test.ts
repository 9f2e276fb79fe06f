import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../../libs/devkit/processes.ts';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import type { TempConfig } from '../../libs/config/tempConfig.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;

/** A real HTTP receiver that answers each delivery with the next status of `statuses` (then 200). */
class Receiver {
  readonly received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  #server: Server | undefined;
  readonly #statuses: number[];
  constructor(statuses: number[] = []) {
    this.#statuses = [...statuses];
  }
  async listen(port = 0): Promise<number> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(this.#statuses.shift() ?? 200).end();
      });
    });
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    return (this.#server.address() as { port: number }).port;
  }
  async close(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server!.close(resolve));
  }
}

let gw: TestGateway | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await gw?.stop();
  gw = undefined;
  receiver = undefined;
});

const start = (editConfig?: (c: TempConfig) => void) =>
  startTestGateway({
    ...(editConfig ? { editConfig } : {}),
    env: {
      GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1',
      GATEWAY_WEBHOOK_SECRETS: `demo:${SECRET}`,
      GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '100,100',
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
    },
  });

interface JobWithWebhook {
  status: string;
  webhook?: { webhook_id: string; status: string; attempts: unknown[] } | null;
}
const webhookOf = async (id: string) => ((await gw!.client.get(id)).body as unknown as JobWithWebhook).webhook;

describe('signed webhooks', () => {
  test('a receiver gets job.completed, signed so that the standardwebhooks package verifies it', async () => {
    gw = await start();
    receiver = new Receiver();
    const port = await receiver.listen();
    const id = await gw.client.submit({ ...submissionFor('claude', 1), callback_url: `http://127.0.0.1:${port}/hooks/llm` });
    await eventually(async () => receiver!.received.length === 1, 30_000, 'the webhook');
    const [delivery] = receiver.received;
    const payload = new Webhook(SECRET).verify(delivery!.body, delivery!.headers as Record<string, string>) as { type: string; data: { id: string; status: string; result: { text: string } } };
    expect(payload.type).toBe('job.completed');
    expect(payload.data).toMatchObject({ id, status: 'completed' });
    expect(payload.data.result.text.length).toBeGreaterThan(100);
    expect(delivery!.headers['webhook-id']).toBe(`msg_${id}`);
    await eventually(async () => (await webhookOf(id))?.status === 'delivered', 10_000, 'the delivered state');
  });

  test('a job the budget rejects sends job.rejected', async () => {
    // $0.02 passes the intake check (the cheapest job could fit) but not this job's worst case.
    gw = await start((c) => c.edit('rate_limits.json', (json) => (json.budget.monthly_usd = 0.02)));
    receiver = new Receiver();
    const port = await receiver.listen();
    const id = await gw.client.submit({ ...submissionFor('claude', 4), callback_url: `http://127.0.0.1:${port}/hook` });
    await eventually(async () => receiver!.received.length === 1, 30_000, 'the webhook');
    const payload = new Webhook(SECRET).verify(receiver.received[0]!.body, receiver.received[0]!.headers as Record<string, string>) as { type: string; data: { id: string; status: string; error: { code: string } } };
    expect(payload).toMatchObject({ type: 'job.rejected', data: { id, status: 'rejected', error: { code: 'budget_exhausted' } } });
    expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 0 });
  });

  test('500, 500, then 200: the same webhook-id three times, and the job shows delivered', async () => {
    gw = await start();
    receiver = new Receiver([500, 500, 200]);
    const port = await receiver.listen();
    const id = await gw.client.submit({ ...submissionFor('gpt4', 2), callback_url: `http://127.0.0.1:${port}/hook` });
    await eventually(async () => (await webhookOf(id))?.status === 'delivered', 30_000, 'delivery');
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([`msg_${id}`, `msg_${id}`, `msg_${id}`]);
    expect((await webhookOf(id))!.attempts).toHaveLength(3);
  });

  test('a receiver that is down ends in dead-letter; an operator replay then delivers', async () => {
    gw = await start();
    const port = await freePort(); // nobody listens here yet
    const id = await gw.client.submit({ ...submissionFor('claude', 3), callback_url: `http://127.0.0.1:${port}/hook` });
    await eventually(async () => (await webhookOf(id))?.status === 'dead_letter', 30_000, 'dead letter');
    expect((await webhookOf(id))!.attempts).toHaveLength(3);

    receiver = new Receiver();
    await receiver.listen(port);
    const replay = await fetch(`${gw.system.apiUrl}/admin/webhooks/${id}/replay`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(replay.status).toBe(202);
    await eventually(async () => (await webhookOf(id))?.status === 'delivered', 30_000, 'the replayed delivery');
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([`msg_${id}`]);
    new Webhook(SECRET).verify(receiver.received[0]!.body, receiver.received[0]!.headers as Record<string, string>);
  });
});
