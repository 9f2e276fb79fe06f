/**
 * The built-in alerter through the real system: API, two workers (one evaluation cluster-wide) and
 * the simulator, with a local receiver standing in for Slack. Each alert is driven into its
 * condition and back out; the receiver must see exactly one firing and one resolution of each.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { cheapestJobMicros } from '../../libs/alerts/evaluator.ts';
import type { AnyJson, TempConfig } from '../../libs/config/tempConfig.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/** A local HTTP server: `status` answers every request; `bodies` keeps what came. */
class Receiver {
  readonly bodies: AnyJson[] = [];
  readonly status: number;
  #server: Server | undefined;
  constructor(status: number) {
    this.status = status;
  }
  async listen(): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.bodies.push(JSON.parse(body || '{}') as AnyJson);
        res.writeHead(this.status).end();
      });
    });
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }
  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

const slack = new Receiver(200);
const callbacks = new Receiver(500);
let gw: TestGateway;
let callbackUrl = '';
let n = 0;

const count = (alert: string, status: 'firing' | 'resolved') => slack.bodies.filter((b) => b['alert'] === alert && b['status'] === status).length;
const seen = (alert: string, status: 'firing' | 'resolved') => eventually(async () => count(alert, status) > 0, 20_000, `${alert} ${status}`);
const submit = (extra: Record<string, unknown> = {}) => gw.client.submit({ ...careerSubmission(n++), ...extra });
/** Keeps light traffic going (a job every 150 ms) until `alerts` are all resolved: some alerts need jobs to judge. */
async function resolvedUnderTraffic(alerts: string[], make: () => Promise<unknown> = () => submit()): Promise<void> {
  const deadline = Date.now() + 25_000;
  while (!alerts.every((a) => count(a, 'resolved') > 0)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${alerts.join(', ')} to resolve; got ${JSON.stringify(slack.bodies.map((b) => `${b['alert']} ${b['status']}`))}`);
    await make();
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function testConfig(c: TempConfig): void {
  c.edit('alerts.json', (a) => {
    a['evaluation_interval_ms'] = 500;
    a['bucket_seconds'] = 1;
    // Long enough to ride out an error rate hovering at its threshold, short enough for the test.
    a['resolve_after_seconds'] = 2;
    a['latency_p95'] = { enabled: true, threshold_seconds: 3, window_seconds: 3, min_jobs: 3 };
    a['error_rate'] = { enabled: true, threshold: 0.05, window_seconds: 3, min_jobs: 10 };
    a['webhook_dead_letters'] = { enabled: true, threshold: 0, window_seconds: 3 };
    a['queue_backlog'] = { enabled: true, threshold_seconds: 2.5 };
    a['rate_limit_waits'] = { enabled: true, threshold: 0, window_seconds: 3 };
    // The budget shrunk around the spend below would also fire the forecast, or not, by the hour of
    // the month; it has its own unit and simulated-month tests.
    a['budget_forecast'] = { enabled: false };
  });
  c.edit('provider_settings.json', (p) => {
    for (const provider of Object.values(p['providers'] as AnyJson)) {
      provider['retry'] = { ...provider['retry'], max_retries: 1, initial_delay_ms: 50, max_delay_ms: 100 };
      provider['breaker'] = { ...provider['breaker'], half_open_after_ms: 1000 };
    }
  });
  c.edit('rate_limits.json', (r) => {
    r['providers'] = { openai: { rpm: 100_000, tpm: 100_000_000 }, anthropic: { rpm: 100_000, tpm: 100_000_000 } };
    r['clients'] = { default: { rpm: 100_000, read_rpm: 100_000 } };
  });
  // Every job calls its provider: no cached answer and no generic category answers blur the phases.
  c.edit('features/career_path_navigator.json', (f) => {
    f['cache'] = { ...f['cache'], enabled: false };
    delete f['category_fallback'];
  });
}

beforeAll(async () => {
  const url = await slack.listen();
  callbackUrl = `${await callbacks.listen()}/hooks`;
  gw = await startTestGateway({
    workers: 2,
    editConfig: testConfig,
    env: {
      WORKER_CONCURRENCY: '8',
      WORKER_SHUTDOWN_GRACE_MS: '2000',
      GATEWAY_ALERT_WEBHOOK_URL: `${url}/services/T000/B000/secret`,
      GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1',
      GATEWAY_WEBHOOK_SECRETS: `demo:${SECRET}`,
      GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '100',
    },
  });
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([slack.close(), callbacks.close()]);
});

test('each built-in alert fires once and resolves once', async () => {
  // Latency above 3 s, and with 16 job slots a backlog behind it.
  await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 4000 } }, anthropic: { latency: { kind: 'fixed', ms: 4000 } } });
  const slow = await Promise.all(Array.from({ length: 24 }, () => submit()));
  await Promise.all([seen('queue_backlog', 'firing'), seen('latency_p95', 'firing')]);
  await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 0 } }, anthropic: { latency: { kind: 'fixed', ms: 0 } } });
  // The slow calls already made finish first: fast jobs alone could not outweigh them yet.
  await gw.client.waitForAll(slow, { timeoutMs: 30_000 });
  await resolvedUnderTraffic(['queue_backlog', 'latency_p95']);

  // 20% of calls refused for good (400): those jobs fail.
  await gw.simulator.setKnobs({ seed: 7, openai: { error_rate: 0.2, error_statuses: [400] }, anthropic: { error_rate: 0.2, error_statuses: [400] } });
  // Paced, so that a busy machine builds no backlog of its own.
  for (let i = 0; i < 60; i++) {
    await submit();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await seen('error_rate', 'firing');
  await gw.simulator.setKnobs({ openai: { error_rate: 0 }, anthropic: { error_rate: 0 } });
  await resolvedUnderTraffic(['error_rate']);

  // OpenAI down: its shared breaker opens (jobs fail over to Anthropic), then closes on a trial.
  await gw.simulator.setKnobs({ openai: { down: true } });
  const gpt4 = () => gw.client.submit({ ...submissionFor('gpt4', n++, gw.config.dir), input: careerSubmission(n).input });
  await Promise.all(Array.from({ length: 4 }, () => gpt4()));
  await seen('breaker_open/openai', 'firing');
  // The API exports the cluster's alert states for Prometheus too.
  expect(await (await fetch(`${gw.system.apiUrl}/metrics`)).text()).toContain('gateway_alert_state{alert="breaker_open/openai"} 1');
  await gw.simulator.setKnobs({ openai: { down: false } });
  await resolvedUnderTraffic(['breaker_open/openai'], gpt4);

  // A receiver that always fails: the delivery is dead-lettered after its one retry.
  await submit({ callback_url: callbackUrl });
  await seen('webhook_dead_letters', 'firing');
  await seen('webhook_dead_letters', 'resolved');

  // A tiny budget: the monthly limit shrinks around what was spent, then grows back.
  const spentUsd = ((await gw.client.request('GET', '/v1/budget')).body as AnyJson)['month']['spent_usd'] as number;
  expect(spentUsd).toBeGreaterThan(0);
  const minJobUsd = cheapestJobMicros(loadConfig(gw.config.dir), new Date()) / 1e6;
  const limit = (usd: number) => gw.config.edit('rate_limits.json', (r) => (r['budget']['monthly_usd'] = usd));
  for (const [fraction, alert] of [[0.85, 'budget_80'], [0.92, 'budget_90'], [0.97, 'budget_95']] as const) {
    limit(spentUsd / fraction);
    await seen(alert, 'firing');
  }
  limit(spentUsd + minJobUsd / 2);
  await seen('budget_exhausted', 'firing');
  limit(spentUsd * 1000);
  await Promise.all(['budget_80', 'budget_90', 'budget_95', 'budget_exhausted'].map((a) => seen(a, 'resolved')));
  // Once per budget window: shrinking it again this month fires nothing new.
  limit(spentUsd + minJobUsd / 2);
  const evaluationsLater = Date.now() + 2_000;
  await eventually(async () => Date.now() > evaluationsLater, 5_000, 'a few evaluations');
  limit(spentUsd * 1000);

  // OpenAI's RPM limit cut to one call a minute: the next call waits.
  gw.config.edit('rate_limits.json', (r) => (r['providers']['openai'] = { rpm: 1, tpm: 100_000_000 }));
  await eventually(async () => {
    // The API may still refuse for a moment: it reloads the grown budget on its own.
    await gpt4().catch(() => undefined);
    return count('rate_limit_waits/openai', 'firing') > 0;
  }, 20_000, 'rate_limit_waits/openai firing');
  gw.config.edit('rate_limits.json', (r) => (r['providers']['openai'] = { rpm: 100_000, tpm: 100_000_000 }));
  await seen('rate_limit_waits/openai', 'resolved');

  const expected = [
    'queue_backlog',
    'latency_p95',
    'error_rate',
    'breaker_open/openai',
    'webhook_dead_letters',
    'budget_80',
    'budget_90',
    'budget_95',
    'budget_exhausted',
    'rate_limit_waits/openai',
  ];
  // Late duplicates would arrive within an evaluation or two.
  const settled = Date.now() + 1_500;
  await eventually(async () => Date.now() > settled, 5_000, 'late notifications');
  const tally = Object.fromEntries(expected.map((a) => [a, [count(a, 'firing'), count(a, 'resolved')]]));
  const story = slack.bodies.map((b) => `${String(b['at'])} ${String(b['text'])}`).join('\n');
  expect(tally, story).toEqual(Object.fromEntries(expected.map((a) => [a, [1, 1]])));
  expect(slack.bodies.filter((b) => !expected.includes(b['alert'] as string))).toEqual([]);
  expect(slack.bodies[0]).toMatchObject({ text: expect.stringMatching(/FIRING/), status: 'firing', at: expect.any(String) });
}, 120_000);
