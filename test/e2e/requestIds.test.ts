/**
 * Request ids, telemetry files and the audit log, through the real processes: a job's
 * X-Request-Id shows in its answers, the API's and the worker's log lines, its telemetry line and
 * its webhook; telemetry lines are written whatever LOG_LEVEL says; operator actions reach the
 * audit file.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { dailyFileName } from '../../libs/telemetry/dailyFile.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { eventually, isCategoryJobId, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;

let gw: TestGateway | undefined;
let receiver: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  receiver?.closeAllConnections();
  if (receiver) await new Promise((resolve) => receiver!.close(resolve));
  await gw?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  gw = receiver = dir = undefined;
});

type Line = Record<string, unknown>;

/**
 * The lines of every `<kind>-*.jsonl` file in `dir`, each checked to sit in the file of its own
 * UTC day; without the lines of category jobs (the generic answers paid answers ask for).
 */
function fileLines(kind: string): Line[] {
  if (!dir || !existsSync(dir)) return [];
  const out: Line[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith(`${kind}-`))) {
    for (const text of readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Line;
      expect(file).toBe(dailyFileName(kind, new Date(line.ts as string)));
      if (typeof line.job_id !== 'string' || !isCategoryJobId(line.job_id)) out.push(line);
    }
  }
  return out;
}

const jsonLines = (lines: string[]): Line[] =>
  lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });

describe('request ids', () => {
  test('X-Request-Id rails-123 shows in the answers, the API and worker logs, the telemetry line and the webhook', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-telemetry-'));
    const webhooks: Line[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        webhooks.push(JSON.parse(body) as Line);
        res.writeHead(200).end();
      });
    }).listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as { port: number }).port;
    const output: Record<string, string[]> = { api: [], worker: [], simulator: [] };
    gw = await startTestGateway({
      env: { LOG_LEVEL: 'info', TELEMETRY_DIR: dir, GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1', GATEWAY_WEBHOOK_SECRETS: `demo:${SECRET}` },
      onLine: (name, line) => output[name]?.push(line),
    });
    const post = (requestId: string) =>
      fetch(`${gw!.system.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw!.system.apiKey}`, 'content-type': 'application/json', 'x-request-id': requestId },
        body: JSON.stringify({ ...careerSubmission(7), callback_url: `http://127.0.0.1:${port}/hooks` }),
      });

    const answer = await post('rails-123');
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-request-id')).toBe('rails-123');
    const accepted = (await answer.json()) as { id: string; request_id: string };
    expect(accepted.request_id).toBe('rails-123');
    const id = accepted.id;

    await eventually(async () => webhooks.length === 1, 30_000, 'the webhook');
    expect(webhooks[0]).toMatchObject({ type: 'job.completed', data: { id, request_id: 'rails-123' } });
    const polled = await gw.client.get(id);
    expect(polled.body).toMatchObject({ id, request_id: 'rails-123', status: 'completed' });

    // The API: its request log line of the submission, without credentials.
    const apiLines = jsonLines(output.api!);
    expect(apiLines).toContainEqual(expect.objectContaining({ requestId: 'rails-123', method: 'POST', route: '/v1/jobs', status: 202, clientId: 'demo', jobId: id }));
    expect(output.api!.join('\n')).not.toContain(gw.system.apiKey);
    // The worker: the job's finished line and the webhook attempt.
    await eventually(async () => jsonLines(output.worker!).some((l) => l.event === 'webhook_attempt' && l.requestId === 'rails-123'), 10_000, 'the webhook attempt line');
    expect(jsonLines(output.worker!)).toContainEqual(expect.objectContaining({ event: 'job_finished', job_id: id, request_id: 'rails-123' }));

    // The telemetry file: the job's line, then its webhook's.
    await eventually(async () => fileLines('jobs').some((l) => l.event === 'webhook_finished'), 10_000, 'the webhook_finished line');
    expect(fileLines('jobs')).toEqual([
      expect.objectContaining({ event: 'job_finished', job_id: id, request_id: 'rails-123', status: 'completed' }),
      expect.objectContaining({ event: 'webhook_finished', job_id: id, request_id: 'rails-123', outcome: 'delivered', attempts: 1, http_status: 200 }),
    ]);

    // A hostile or oversized id is never reflected: the job gets a UUID instead.
    for (const bad of ['a"b<script>', 'x'.repeat(200)]) {
      const hostile = await post(bad);
      const replaced = hostile.headers.get('x-request-id');
      expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await hostile.json()) as { request_id: string }).request_id).toBe(replaced);
    }
  }, 90_000);

  test('with LOG_LEVEL=warn, 100 jobs still write 100 telemetry lines to the daily file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-telemetry-'));
    const workerLines: string[] = [];
    gw = await startTestGateway({ env: { LOG_LEVEL: 'warn', TELEMETRY_DIR: dir }, onLine: (name, line) => name === 'worker' && workerLines.push(line) });
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => gw!.client.submit(careerSubmission(1000 + i))));
    const finished = await gw.client.waitForAll(ids, { timeoutMs: 120_000 });
    expect(finished.size).toBe(100);
    await eventually(async () => fileLines('jobs').length >= 100, 15_000, '100 telemetry lines');
    const lines = fileLines('jobs');
    expect(lines).toHaveLength(100);
    expect(new Set(lines.map((l) => l.job_id))).toEqual(new Set(ids));
    expect(lines.every((l) => l.event === 'job_finished' && typeof l.request_id === 'string')).toBe(true);
    // The info-level "job finished" log lines were dropped, as the level asks.
    expect(jsonLines(workerLines).filter((l) => l.event === 'job_finished')).toEqual([]);
  }, 180_000);
});

describe('audit log', () => {
  test('logins, a Bull Board action, a webhook replay and config reloads are audit lines', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-telemetry-'));
    gw = await startTestGateway({ env: { TELEMETRY_DIR: dir, GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN } });
    const admin = (path: string, token: string, method = 'GET', requestId?: string) =>
      fetch(`${gw!.system.apiUrl}/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(requestId ? { 'x-request-id': requestId } : {}) } });

    expect((await admin('/queues/', 'wrong-token', 'GET', 'op-1')).status).toBe(401);
    expect((await admin('/queues/', ADMIN_TOKEN)).status).toBe(200);
    // The board's page and its API calls in the same session: one login line, not one per request.
    expect((await admin('/queues/api/queues', ADMIN_TOKEN)).status).toBe(200);
    expect((await admin('/queues/api/queues/webhooks/clean/completed', ADMIN_TOKEN, 'PUT', 'op-2')).status).toBeLessThan(300);
    expect((await admin('/webhooks/00000000-0000-4000-8000-000000000000/replay', ADMIN_TOKEN, 'POST')).status).toBe(404);

    gw.config.edit('rate_limits.json', (json) => {
      json.budget.monthly_usd = 4321;
    });
    await eventually(async () => fileLines('audit').some((l) => l.action === 'config_reload'), 10_000, 'the applied reload');
    gw.config.write('rate_limits.json', '{ not json');
    await eventually(async () => fileLines('audit').some((l) => l.outcome === 'refused'), 10_000, 'the refused reload');

    const lines = fileLines('audit');
    const fields = ['ts', 'actor', 'action', 'target', 'outcome', 'ip', 'request_id', 'details'];
    for (const line of lines) expect(Object.keys(line)).toEqual(fields);
    expect(lines.filter((l) => l.action === 'admin_login')).toEqual([
      expect.objectContaining({ actor: 'anonymous', outcome: 'failure', ip: expect.stringContaining('127.0.0.1'), request_id: 'op-1' }),
      expect.objectContaining({ actor: 'admin', outcome: 'success' }),
    ]);
    expect(lines).toContainEqual(expect.objectContaining({ action: 'bull_board_action', actor: 'admin', target: '/api/queues/webhooks/clean/completed', outcome: 'success', request_id: 'op-2' }));
    expect(lines).toContainEqual(expect.objectContaining({ action: 'webhook_replay', outcome: 'failure', details: { code: 'webhook_not_found' } }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        action: 'config_reload',
        outcome: 'applied',
        details: expect.objectContaining({ process: 'api', changes: [{ path: 'rateLimits.budget.monthly_usd', change: 'changed', from: 5000, to: 4321 }] }),
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ action: 'config_reload', outcome: 'refused', details: expect.objectContaining({ error: expect.objectContaining({ code: 'invalid_config' }) }) }));
    // The token never reaches the file.
    expect(readdirSync(dir).map((f) => readFileSync(join(dir!, f), 'utf8')).join('')).not.toContain(ADMIN_TOKEN);
  }, 60_000);
});
