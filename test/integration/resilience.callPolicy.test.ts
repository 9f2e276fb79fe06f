import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';
import type { ProviderSettings } from '../../libs/config/types.ts';
import { SharedBreaker } from '../../libs/resilience/sharedBreaker.ts';
import { callWithResilience, type AttemptReport } from '../../libs/resilience/callPolicy.ts';
import { CircuitOpenError, classifyResilienceError, isCircuitOpenError } from '../../libs/resilience/errors.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{test-callpolicy-${randomUUID()}}`;
const redis = createRedis(REDIS_URL, 'resilience-callpolicy-test');
let clock = 1_700_000_000_000;
const now = () => clock;
const breaker = new SharedBreaker(redis, prefix, now);

function providerSettings(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {
    kind: 'openai',
    base_url: 'http://127.0.0.1:4010/v1',
    api_key_env: 'OPENAI_API_KEY',
    timeout_ms: 5_000,
    models: {},
    retry: { max_retries: 2, initial_delay_ms: 200, max_delay_ms: 5_000, max_retry_after_ms: 10_000 },
    breaker: { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 },
    ...overrides,
  };
}

const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`HTTP ${status}`), { name: 'APIError', status, headers });

let provider: string;
let sleeps: number[];
let attempts: AttemptReport[];
const hooks = () => ({
  sleep: async (ms: number) => {
    sleeps.push(ms);
  },
  random: () => 0.5,
  now,
  onAttempt: (a: AttemptReport) => attempts.push(a),
});

beforeEach(() => {
  provider = `p-${randomUUID().slice(0, 8)}`;
  sleeps = [];
  attempts = [];
});

afterAll(async () => {
  await unlinkPrefix(redis, prefix);
  redis.disconnect();
});

describe('callWithResilience', () => {
  test('a success returns the value and reports one attempt', async () => {
    const value = await callWithResilience(provider, providerSettings(), breaker, async () => 'ok', hooks());
    expect(value).toBe('ok');
    expect(attempts).toEqual([{ provider, status: 200, latencyMs: expect.any(Number) }]);
  });

  test('a retryable error is retried max_retries times, then rethrown; each failure counts in the breaker', async () => {
    const error = httpError(503);
    let calls = 0;
    const run = callWithResilience(provider, providerSettings(), breaker, async () => {
      calls++;
      throw error;
    }, hooks());
    await expect(run).rejects.toBe(error);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([100, 200]); // full jitter at random 0.5: 0.5 * 200, 0.5 * 400
    expect(attempts.map((a) => a.errorCode)).toEqual(['provider_unavailable', 'provider_unavailable', 'provider_unavailable']);
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 3 });
  });

  test('a retry that succeeds returns the value', async () => {
    let calls = 0;
    const value = await callWithResilience(provider, providerSettings(), breaker, async () => {
      if (++calls < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 42;
    }, hooks());
    expect(value).toBe(42);
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  test('a 400 is rethrown at once and is not a breaker failure', async () => {
    const error = httpError(400);
    let calls = 0;
    const run = callWithResilience(provider, providerSettings(), breaker, async () => {
      calls++;
      throw error;
    }, hooks());
    await expect(run).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
    expect(classifyResilienceError(error)).toMatchObject({ retryable: false, code: 'provider_bad_request' });
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  test('retry-after of 2 s is honoured', async () => {
    let calls = 0;
    const value = await callWithResilience(provider, providerSettings(), breaker, async () => {
      if (++calls === 1) throw httpError(429, { 'retry-after': '2' });
      return 'after wait';
    }, hooks());
    expect(value).toBe('after wait');
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
  });

  test('retry-after longer than max_retry_after_ms gives up at once, keeping the wait in the classification', async () => {
    const error = httpError(429, { 'retry-after': '60' });
    let calls = 0;
    const run = callWithResilience(provider, providerSettings(), breaker, async () => {
      calls++;
      throw error;
    }, hooks());
    await expect(run).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
    expect(classifyResilienceError(error)).toMatchObject({ retryable: true, retryAfterMs: 60_000 });
  });

  test('the timeout aborts the signal given to fn and classifies as provider_timeout', async () => {
    let seen: AbortSignal | undefined;
    let abortEvent = false;
    const run = callWithResilience(
      provider,
      providerSettings({ timeout_ms: 50, retry: { max_retries: 0, initial_delay_ms: 200, max_delay_ms: 5_000, max_retry_after_ms: 10_000 } }),
      breaker,
      (signal) => {
        seen = signal;
        signal.addEventListener('abort', () => (abortEvent = true));
        return new Promise<never>(() => {}); // an SDK that never answers
      },
      hooks(),
    );
    const error = await run.then(() => undefined, (e: unknown) => e);
    expect(seen?.aborted).toBe(true);
    expect(abortEvent).toBe(true);
    expect(classifyResilienceError(error)).toEqual({ retryable: true, code: 'provider_timeout', status: 0, retryAfterMs: undefined });
    expect(attempts).toEqual([{ provider, status: 0, errorCode: 'provider_timeout', latencyMs: expect.any(Number) }]);
    expect(await breaker.state(provider)).toMatchObject({ consecutiveFailures: 1 });
  });

  test('an open circuit throws CircuitOpenError without calling fn, and is not retried', async () => {
    const settings = providerSettings({ breaker: { ...providerSettings().breaker, consecutive_failures: 1 }, retry: { ...providerSettings().retry, max_retries: 5 } });
    // The first failure opens the breaker: no wait, no second call, the provider error is the cause.
    const http500 = httpError(500);
    let failing = 0;
    const opened = await callWithResilience(provider, settings, breaker, async () => {
      failing++;
      throw http500;
    }, hooks()).then(() => undefined, (e: unknown) => e);
    expect(failing).toBe(1);
    expect(sleeps).toEqual([]);
    expect(opened).toBeInstanceOf(CircuitOpenError);
    expect((opened as CircuitOpenError).cause).toBe(http500);
    let calls = 0;
    const error = await callWithResilience(provider, settings, breaker, async () => ++calls, hooks()).then(() => undefined, (e: unknown) => e);
    expect(calls).toBe(0);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(classifyResilienceError(error, clock)).toEqual({ retryable: true, code: 'provider_circuit_open', status: 0, retryAfterMs: 30_000 });
    expect((error as CircuitOpenError).retryAfterSeconds).toBe(30);
    // After half_open_after_ms the next call is the trial, and its success closes the breaker.
    clock += 30_000;
    expect(await callWithResilience(provider, settings, breaker, async () => 'back', hooks())).toBe('back');
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  test('an aborted caller signal stops the call without retrying or blaming the provider', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = callWithResilience(provider, providerSettings(), breaker, (signal) => {
      calls++;
      queueMicrotask(() => controller.abort());
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }, { ...hooks(), signal: controller.signal });
    await expect(run).rejects.toBeDefined();
    expect(calls).toBe(1);
    expect(await breaker.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });
});
