import { afterEach, describe, expect, test } from 'vitest';
import type { TempConfig } from '../../libs/config/tempConfig.ts';
import { CRASH_AFTER_ANSWER_KEPT_ENV, NO_CRASH_ENV, eventually, startTestGateway, submissionFor, userJobCalls, type TestGateway } from '../helpers/gateway.ts';

interface Job {
  id: string;
  status: string;
  provider: string | null;
  served_by: string;
  cache: string;
  degraded: boolean;
  error: { code: string } | null;
  result: { text: string } | null;
  provider_attempts: Array<{ provider: string; status: number; errorCode?: string }>;
  latency_ms: { total: number };
}

/** Fast settings so outages play out in seconds: 1 s timeout, 2 s half-open, short backoff. */
function fastResilience(config: TempConfig, cacheTtlSeconds = 86_400): void {
  config.edit('provider_settings.json', (json) => {
    for (const p of Object.values(json.providers) as Array<Record<string, Record<string, number> | number>>) {
      p.timeout_ms = 1000;
      p.retry = { max_retries: 2, initial_delay_ms: 50, max_delay_ms: 200, max_retry_after_ms: 10_000 };
      p.breaker = { ...(p.breaker as Record<string, number>), half_open_after_ms: 2000 };
    }
  });
  config.edit('features/career_path_navigator.json', (json) => {
    json.cache.ttl_seconds = cacheTtlSeconds;
    // No generic category answers: these tests count every provider call and cent.
    delete json.category_fallback;
  });
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const finished = async (ids: string[], timeoutMs = 60_000) => [...(await gw!.client.waitForAll(ids, { timeoutMs })).values()] as unknown as Job[];

describe('provider outages', () => {
  test('one provider down: the backup serves every job, the breaker stops calls, recovery restores the split', async () => {
    gw = await startTestGateway({ env: { WORKER_CONCURRENCY: '1' }, editConfig: (c) => fastResilience(c) });
    await gw.simulator.setKnobs({ openai: { down: true } });
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await gw.client.submit(submissionFor(i % 2 ? 'gpt4' : 'claude', i)));
    const jobs = await finished(ids);
    expect(jobs.every((j) => j.status === 'completed' && j.provider === 'anthropic')).toBe(true);
    expect(jobs.filter((j) => j.served_by === 'failover')).toHaveLength(6);
    // 5 consecutive failures open the breaker; no further call reaches the dead provider.
    expect((await gw.simulator.calls()).total.openai).toBe(5);

    await gw.simulator.setKnobs({ openai: { down: false } });
    await new Promise((resolve) => setTimeout(resolve, 2100)); // the configured half-open delay
    const after = await finished(await Promise.all([20, 21, 22, 23].map((i) => gw!.client.submit(submissionFor('gpt4', i)))));
    expect(after.every((j) => j.provider === 'openai' && j.served_by === 'provider')).toBe(true);
  });

  test('a breaker opened by one worker process is honoured by another', async () => {
    // The breaker must stay open while a second worker starts, however slow the machine: no half-open trial here.
    const longOpen = (c: TempConfig) => {
      fastResilience(c);
      c.edit('provider_settings.json', (json) => {
        for (const p of Object.values(json.providers) as Array<{ breaker: Record<string, number> }>) p.breaker.half_open_after_ms = 120_000;
      });
    };
    gw = await startTestGateway({ env: { WORKER_CONCURRENCY: '1' }, editConfig: longOpen });
    await gw.simulator.setKnobs({ openai: { down: true } });
    const first = await finished(await Promise.all([0, 1, 2].map((i) => gw!.client.submit(submissionFor('gpt4', i)))));
    expect(first.every((j) => j.provider === 'anthropic')).toBe(true);
    expect((await gw.simulator.calls()).total.openai).toBe(5);

    const [firstWorker] = gw.system.processes.filter((p) => p.name === 'worker');
    await gw.system.addWorker();
    await firstWorker!.stop();
    const second = await finished(await Promise.all([3, 4, 5, 6].map((i) => gw!.client.submit(submissionFor('gpt4', i)))));
    expect(second.every((j) => j.provider === 'anthropic' && j.served_by === 'failover')).toBe(true);
    expect((await gw.simulator.calls()).total.openai).toBe(5);
  });

  test('both providers down: a cached answer where there is one, the degraded answer otherwise', async () => {
    gw = await startTestGateway({ editConfig: (c) => fastResilience(c, 1) });
    const known = submissionFor('claude', 1);
    const [warm] = await finished([await gw.client.submit(known)]);
    expect(warm!.served_by).toBe('provider');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the cached answer turns stale
    await gw.simulator.setKnobs({ openai: { down: true }, anthropic: { down: true } });

    const [stale, fresh] = await finished([await gw.client.submit(known), await gw.client.submit(submissionFor('claude', 2))], 90_000);
    expect(stale).toMatchObject({ status: 'completed', served_by: 'stale_cache', cache: 'hit', degraded: false });
    expect(stale!.result!.text).toBe(warm!.result!.text);
    expect(fresh).toMatchObject({ status: 'completed', served_by: 'degraded', degraded: true, provider: null });
    expect(fresh!.result!.text).toMatch(/temporarily unavailable/);
  });
});

describe('retries, timeouts and fatal errors', () => {
  test('429 with retry-after 2: each retry waits at least 2 s, then the backup serves', async () => {
    gw = await startTestGateway({ editConfig: (c) => fastResilience(c) });
    await gw.simulator.setKnobs({ anthropic: { error_rate: 1, error_statuses: [429], retry_after_s: 2 } });
    const [job] = await finished([await gw.client.submit(submissionFor('claude', 1))]);
    const anthropic = job!.provider_attempts.filter((a) => a.provider === 'anthropic');
    expect(anthropic.map((a) => a.status)).toEqual([429, 429, 429]);
    expect(job!.provider).toBe('openai');
    expect(job!.latency_ms.total).toBeGreaterThanOrEqual(4000);
  });

  test('a hung provider is cut at the timeout and the simulator sees the connection closed', async () => {
    gw = await startTestGateway({ editConfig: (c) => fastResilience(c) });
    await gw.simulator.setKnobs({ openai: { hang_rate: 1 } });
    const [job] = await finished([await gw.client.submit(submissionFor('gpt4', 1))]);
    expect(job!.provider_attempts.filter((a) => a.provider === 'openai').every((a) => a.errorCode === 'provider_timeout')).toBe(true);
    expect(job!.provider).toBe('anthropic');
    await eventually(async () => (await gw!.simulator.calls()).aborted.openai === 3, 5000, 'aborted connections');
  });

  test('a 400 is not retried and fails the job with a clear code', async () => {
    gw = await startTestGateway({ editConfig: (c) => fastResilience(c) });
    await gw.simulator.setKnobs({ openai: { error_rate: 1, error_statuses: [400] } });
    const [job] = await finished([await gw.client.submit(submissionFor('gpt4', 1))]);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'provider_bad_request' } });
    expect((await gw.simulator.calls()).total).toEqual({ openai: 1, anthropic: 0 });
  });
});

describe('incomplete answers', () => {
  test('a malformed answer is never stored as a success: it fails over', async () => {
    gw = await startTestGateway({ editConfig: (c) => fastResilience(c) });
    await gw.simulator.setKnobs({ openai: { malformed_rate: 1 } });
    const [job] = await finished([await gw.client.submit(submissionFor('gpt4', 1))]);
    expect(job!.provider_attempts.filter((a) => a.provider === 'openai').map((a) => a.errorCode)).toEqual(Array(3).fill('provider_malformed_response'));
    expect(job).toMatchObject({ status: 'completed', provider: 'anthropic', served_by: 'failover' });
    // The three unusable answers were billed by the provider: they count (at GPT-4's worst case, as
    // they report no usage) on top of the answer that served.
    const usage = (job as unknown as { usage: { input_tokens: number; output_tokens: number }; cost_usd: number }).usage;
    const served = (usage.input_tokens * 3 + usage.output_tokens * 15) / 1e6;
    const cost = (job as unknown as { cost_usd: number }).cost_usd;
    expect(cost).toBeGreaterThan(served + 3 * 0.048);
    const budget = (await gw.client.request<{ month: { spent_usd: number } }>('GET', '/v1/budget')).body;
    expect(budget.month.spent_usd).toBeCloseTo(cost, 6);
  });

  test('an answer cut at the output limit is kept but flagged as truncated', async () => {
    gw = await startTestGateway({ editConfig: (c) => c.edit('features/career_path_navigator.json', (json) => (json.output.max_output_tokens = 20)) });
    const [job] = await finished([await gw.client.submit(submissionFor('claude', 1))]);
    expect(job).toMatchObject({ status: 'completed', finish_reason: 'length', truncated: true });
  });
});

describe('paying once', () => {
  test('a worker killed after the provider answered does not call the provider again', async () => {
    gw = await startTestGateway({ env: { ...CRASH_AFTER_ANSWER_KEPT_ENV, WORKER_LOCK_MS: '2000' } });
    const id = await gw.client.submit(submissionFor('gpt4', 1));
    const [crashing] = gw.system.processes.filter((p) => p.name === 'worker');
    await eventually(async () => crashing!.child.exitCode !== null || crashing!.child.signalCode !== null, 20_000, 'the worker to crash');
    await gw.system.addWorkerWith(NO_CRASH_ENV);
    const [job] = await finished([id]);
    expect(job).toMatchObject({ status: 'completed', provider: 'openai' });
    expect((await gw.simulator.calls()).by_job[id]).toEqual({ openai: 1, anthropic: 0 });
  });

  test('a job that loses its worker too often is still ended: its paid answer is stored and settled', async () => {
    // With no stall allowed, BullMQ fails the job at the first crash without running it again. The
    // lock is long enough that a worker starved of CPU on a busy machine keeps it until it crashes:
    // a lock lapsing while the worker still runs the job stalls it out too, before any answer is
    // kept, and the job then rightly ends as worker_lost.
    gw = await startTestGateway({ env: { ...CRASH_AFTER_ANSWER_KEPT_ENV, WORKER_LOCK_MS: '6000', WORKER_MAX_STALLED: '0' } });
    const id = await gw.client.submit(submissionFor('claude', 2));
    const [crashing] = gw.system.processes.filter((p) => p.name === 'worker');
    await eventually(async () => crashing!.child.exitCode !== null || crashing!.child.signalCode !== null, 20_000, 'the worker to crash');
    await gw.system.addWorkerWith(NO_CRASH_ENV);
    const [job] = await finished([id]);
    expect(job).toMatchObject({ status: 'completed', provider: 'anthropic' });
    expect((await gw.simulator.calls()).by_job[id]).toEqual({ openai: 0, anthropic: 1 });
    const budget = (await gw.client.request<{ month: { spent_usd: number; reserved_usd: number } }>('GET', '/v1/budget')).body;
    expect(budget.month.spent_usd).toBeCloseTo((job as unknown as { cost_usd: number }).cost_usd, 6);
  });

  test('100 identical concurrent requests make one provider call', async () => {
    gw = await startTestGateway({ workers: 2 });
    const submission = submissionFor('claude', 5);
    await gw.simulator.setKnobs({ anthropic: { latency: { kind: 'fixed', ms: 300 } } });
    const jobs = await finished(await Promise.all(Array.from({ length: 100 }, () => gw!.client.submit(submission))));
    expect(jobs.every((j) => j.status === 'completed')).toBe(true);
    expect(userJobCalls(await gw.simulator.calls())).toEqual({ openai: 0, anthropic: 1 });
    expect(jobs.filter((j) => j.cache === 'miss')).toHaveLength(1);
    expect(new Set(jobs.map((j) => j.result!.text)).size).toBe(1);
  });
});
