import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { loadConfig } from '../../libs/config/load.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import type { BudgetSnapshot } from '../../libs/budget/budgetStore.ts';
import type { BreakerState } from '../../libs/resilience/sharedBreaker.ts';
import { AlertSignals, bucketKey, readBuckets } from '../../libs/alerts/signals.ts';
import { evaluateAlerts, type EvaluatorDeps } from '../../libs/alerts/evaluator.ts';
import { readAlertStates } from '../../libs/alerts/state.ts';
import { postAlert } from '../../libs/alerts/notify.ts';
import { isGatewayError } from '../../libs/errors/index.ts';

const kit = redisKit('alerts');
const T0 = Date.parse('2037-03-10T12:00:00Z');
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const shipped = loadConfig('config');
// Only the alerts a test drives: the others read inputs the stubs below leave quiet.
const config: GatewayConfig = { ...shipped, alerts: { ...shipped.alerts, bucket_seconds: 1, resolve_after_seconds: 0, rate_limit_waits: { ...shipped.alerts.rate_limit_waits, threshold: 2, window_seconds: 10 } } };

let redis: Redis;
beforeAll(() => {
  redis = kit.connect();
});
afterAll(() => kit.cleanup());

const snapshot = (spentMicros: number): BudgetSnapshot => {
  const window = { spent: spentMicros, reserved: 0, charged: 0, limit: null, endsAt: T0 + 1e9 };
  return { month: { ...window, period: '2037-03', forecastMicros: 0 }, day: { ...window, period: '2037-03-10' }, holds: 0 };
};

/** An evaluator over stubbed budget, breakers and queue; `world` is changed by the test between evaluations. */
function evaluator(prefix: string, world: { spent: number; breaker: BreakerState; now: number }): EvaluatorDeps {
  return {
    redis,
    prefix,
    config: () => config,
    budget: { snapshot: async () => snapshot(world.spent) },
    breaker: { state: async (p) => ({ state: p === 'openai' ? world.breaker : 'closed', consecutiveFailures: 0 }) },
    oldestWaitingMs: async () => 0,
    log: silent,
    now: () => world.now,
  };
}

describe('signals', () => {
  test('recorders on several connections add up in the same buckets, which expire', async () => {
    const prefix = kit.freshPrefix();
    let now = T0;
    const recorders = [kit.connect(), kit.connect()].map((r) => new AlertSignals(r, prefix, () => config.alerts, silent, { now: () => now }));
    for (const [i, r] of recorders.entries()) {
      r.jobFinished({ status: 'completed', degraded: false, served_by: 'provider', latency_ms: { queue: 1, provider: 400, total: 450 } });
      r.jobFinished({ status: 'completed', degraded: true, served_by: 'degraded', latency_ms: { queue: 1, provider: 0, total: 4000 } });
      r.deadLetter();
      r.rateLimitWait(i === 0 ? 'openai' : 'anthropic');
    }
    now = T0 + 1000;
    recorders[0]!.jobFinished({ status: 'rejected', degraded: false, served_by: null, latency_ms: null });
    const key = bucketKey(prefix, 1, T0 / 1000);
    await expectEventually(async () => Number(await redis.hget(bucketKey(prefix, 1, T0 / 1000 + 1), 'jobs')) === 1);
    const buckets = await readBuckets(redis, prefix, 1, T0 + 1500, 5);
    const first = buckets.find((b) => b.start === T0 / 1000)!;
    expect(first).toMatchObject({ jobs: 4, errors: 2, deadLetters: 2, rateLimitWaits: { openai: 1, anthropic: 1 } });
    expect(first.latency[3]).toBe(2); // 0.45 s is in (0.25, 0.5]
    expect(first.latency[7]).toBe(2); // 4 s is in (3, 5]
    expect(buckets.find((b) => b.start === T0 / 1000 + 1)).toMatchObject({ jobs: 1, errors: 1 });
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(900 + 2);
  });
});

describe('signals written in batches', () => {
  test('events wait in memory until the flush, then land in their own buckets in one write', async () => {
    const prefix = kit.freshPrefix();
    let now = T0;
    const signals = new AlertSignals(redis, prefix, () => config.alerts, silent, { now: () => now, flushMs: 60_000 });
    for (let i = 0; i < 100; i++) signals.jobFinished({ status: 'completed', degraded: false, served_by: 'provider', latency_ms: { queue: 1, provider: 400, total: 450 } });
    now = T0 + 1000;
    signals.rateLimitWait('openai');
    await new Promise((r) => setTimeout(r, 50));
    expect(await redis.exists(bucketKey(prefix, 1, T0 / 1000))).toBe(0);
    await signals.flush();
    const [first, second] = await readBuckets(redis, prefix, 1, T0 + 1500, 1);
    expect(first).toMatchObject({ start: T0 / 1000, jobs: 100, errors: 0, rateLimitWaits: {} });
    expect(first!.latency[3]).toBe(100);
    expect(second).toMatchObject({ start: T0 / 1000 + 1, jobs: 0, rateLimitWaits: { openai: 1 } });
    expect(await redis.ttl(bucketKey(prefix, 1, T0 / 1000 + 1))).toBeGreaterThan(0);
    // Nothing pending: a second flush writes nothing.
    await signals.flush();
    expect((await readBuckets(redis, prefix, 1, T0 + 1500, 1))[0]).toMatchObject({ jobs: 100 });
  });
});

describe('evaluateAlerts', () => {
  test('two evaluators racing apply each transition once: one fire, one resolve', async () => {
    const prefix = kit.freshPrefix();
    const world = { spent: 0, breaker: 'open' as BreakerState, now: T0 };
    const a = evaluator(prefix, world);
    const b = { ...evaluator(prefix, world), redis: kit.connect() };
    const fired = (await Promise.all([evaluateAlerts(a), evaluateAlerts(b), evaluateAlerts(a)])).flat();
    expect(fired.map((n) => `${n.alert} ${n.status}`)).toEqual(['breaker_open/openai firing']);
    expect(await readAlertStates(redis, prefix)).toMatchObject({ 'breaker_open/openai': true });
    // Still open: nothing new.
    expect(await evaluateAlerts(a)).toEqual([]);
    world.breaker = 'closed';
    world.now += 1000;
    const resolved = (await Promise.all([evaluateAlerts(a), evaluateAlerts(b)])).flat();
    expect(resolved.map((n) => `${n.alert} ${n.status}`)).toEqual(['breaker_open/openai resolved']);
    expect(await readAlertStates(redis, prefix.slice(1, -1))).toMatchObject({ 'breaker_open/openai': false });
  });

  test('a budget threshold fires once per month, even when spend dips under it and back', async () => {
    const prefix = kit.freshPrefix();
    const limit = shipped.rateLimits.budget.monthly_usd * 1e6;
    const world = { spent: 0.85 * limit, breaker: 'closed' as BreakerState, now: T0 };
    const deps = evaluator(prefix, world);
    expect((await evaluateAlerts(deps)).map((n) => `${n.alert} ${n.status}`)).toEqual(['budget_80 firing']);
    world.spent = 0.5 * limit; // e.g. the limit was raised
    expect((await evaluateAlerts(deps)).map((n) => `${n.alert} ${n.status}`)).toEqual(['budget_80 resolved']);
    world.spent = 0.85 * limit;
    expect(await evaluateAlerts(deps)).toEqual([]);
  });

  test('rate-limit waits recorded by workers fire and resolve per provider as the window slides', async () => {
    const prefix = kit.freshPrefix();
    const world = { spent: 0, breaker: 'closed' as BreakerState, now: T0 };
    const signals = new AlertSignals(redis, prefix, () => config.alerts, silent, { now: () => world.now });
    for (let i = 0; i < 3; i++) signals.rateLimitWait('openai');
    await expectEventually(async () => Number(await redis.hget(bucketKey(prefix, 1, T0 / 1000), 'rlw:openai')) === 3);
    const deps = evaluator(prefix, world);
    expect((await evaluateAlerts(deps)).map((n) => `${n.alert} ${n.status}`)).toEqual(['rate_limit_waits/openai firing']);
    world.now += 11_000;
    expect((await evaluateAlerts(deps)).map((n) => `${n.alert} ${n.status}`)).toEqual(['rate_limit_waits/openai resolved']);
  });

  test('an alert that is disabled while firing resolves', async () => {
    const prefix = kit.freshPrefix();
    const world = { spent: 0, breaker: 'open' as BreakerState, now: T0 };
    const deps = evaluator(prefix, world);
    await evaluateAlerts(deps);
    const off: GatewayConfig = { ...config, alerts: { ...config.alerts, breaker_open: { enabled: false } } };
    const notices = await evaluateAlerts({ ...deps, config: () => off });
    expect(notices).toMatchObject([{ alert: 'breaker_open/openai', status: 'resolved', summary: expect.stringContaining('no longer evaluated') }]);
  });
});

describe('the oldest waiting job', () => {
  test('getJobs(wait, 0, 0, asc) answers the job added first', async () => {
    const prefix = kit.freshPrefix();
    const queue = new Queue('alert-probe', { connection: kit.connect(), prefix });
    await queue.add('a', {}, { jobId: 'first', timestamp: T0 });
    await queue.add('b', {}, { jobId: 'second', timestamp: T0 + 5000 });
    const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
    expect(oldest?.id).toBe('first');
    await queue.obliterate({ force: true });
    await queue.close();
  });
});

describe('postAlert', () => {
  let server: Server;
  let url = '';
  const received: unknown[] = [];
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(status).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T/B/secret`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const notice = { alert: 'x', rule: 'x', status: 'firing' as const, text: 'hello', summary: 's', value: 1, threshold: 0, at: new Date(T0).toISOString(), seq: 1 };

  test('posts JSON with Slack text', async () => {
    status = 200;
    expect(await postAlert(url, notice)).toBe(200);
    expect(received.at(-1)).toMatchObject({ text: 'hello', alert: 'x', status: 'firing' });
  });

  test('a non-2xx answer throws alert_webhook_failed without the secret path', async () => {
    status = 500;
    const err = await postAlert(url, notice).catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('alert_webhook_failed');
    expect((err as Error).message).not.toContain('secret');
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
