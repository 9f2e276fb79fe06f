import { describe, expect, test } from 'vitest';
import type { ProviderSettings } from '../config/types.ts';
import { callWithResilience, type CallHooks } from './callPolicy.ts';
import type { BreakerPermit, SharedBreaker } from './sharedBreaker.ts';

const settings: ProviderSettings = {
  kind: 'openai',
  base_url: 'http://127.0.0.1:1/v1',
  api_key_env: 'OPENAI_API_KEY',
  timeout_ms: 5_000,
  models: {},
  retry: { max_retries: 1, initial_delay_ms: 1, max_delay_ms: 1, max_retry_after_ms: 1_000 },
  breaker: { consecutive_failures: 5, failure_rate: 0.5, sampling_window_ms: 30_000, minimum_throughput: 10, half_open_after_ms: 30_000 },
};
const permit: BreakerPermit = { allowed: true, provider: 'p', state: 'closed', isTrial: false, trialId: 0, settings: settings.breaker };

/** A breaker whose records answer as `record` says; `steps` logs every call in order. */
function fakeBreaker(record: (outcome: string) => Promise<'closed' | 'open'>) {
  const steps: string[] = [];
  const breaker = {
    acquire: async () => (steps.push('acquire'), permit),
    record: (_p: BreakerPermit, outcome: string) => (steps.push(`record:${outcome}`), record(outcome).finally(() => steps.push(`recorded:${outcome}`))),
  } as unknown as SharedBreaker;
  return { breaker, steps };
}

const noSleep: CallHooks = { sleep: async () => {}, random: () => 0.5 };
const retryable = () => Object.assign(new Error('HTTP 503'), { name: 'APIError', status: 503, headers: {} });

describe('callWithResilience and the breaker', () => {
  test('a permit taken by beforeTry is used: the breaker is not asked again', async () => {
    const { breaker, steps } = fakeBreaker(async () => 'closed');
    const beforeTry = async () => (steps.push('beforeTry'), permit);
    expect(await callWithResilience('p', settings, breaker, async () => 'ok', { ...noSleep, beforeTry })).toBe('ok');
    expect(steps.slice(0, 2)).toEqual(['beforeTry', 'record:success']);
  });

  test('a beforeTry that answers no permit: the breaker is asked next', async () => {
    const { breaker, steps } = fakeBreaker(async () => 'closed');
    const beforeTry = async () => void steps.push('beforeTry');
    await callWithResilience('p', settings, breaker, async () => 'ok', { ...noSleep, beforeTry });
    expect(steps.slice(0, 3)).toEqual(['beforeTry', 'acquire', 'record:success']);
  });

  test('a success does not wait for its record', async () => {
    const { breaker, steps } = fakeBreaker(() => new Promise(() => {}));
    expect(await callWithResilience('p', settings, breaker, async () => 'ok', noSleep)).toBe('ok');
    expect(steps).toEqual(['acquire', 'record:success']);
  });

  test('a success whose record fails: the answer stands, the error is reported, nothing is left unhandled', async () => {
    const { breaker } = fakeBreaker(async () => {
      throw new Error('redis down');
    });
    const errors: unknown[] = [];
    let reportedNow: () => void = () => {};
    const reported = new Promise<void>((resolve) => (reportedNow = resolve));
    const onBreakerError = (e: unknown) => {
      errors.push(e);
      reportedNow();
      throw new Error('a broken hook');
    };
    expect(await callWithResilience('p', settings, breaker, async () => 'ok', { ...noSleep, onBreakerError })).toBe('ok');
    await reported;
    expect(errors).toEqual([new Error('redis down')]);
  });

  test('a failure is recorded before the next try asks the breaker', async () => {
    const { breaker, steps } = fakeBreaker(async () => 'closed');
    let calls = 0;
    const value = await callWithResilience('p', settings, breaker, async () => {
      if (calls++ === 0) throw retryable();
      return 'ok';
    }, noSleep);
    expect(value).toBe('ok');
    expect(steps.slice(0, 4)).toEqual(['acquire', 'record:failure', 'recorded:failure', 'acquire']);
  });
});

describe('the signal given to the call', () => {
  const once = { ...settings, timeout_ms: 50, retry: { ...settings.retry, max_retries: 0 } };

  test('a call that returned or failed leaves its signal alone', async () => {
    const { breaker } = fakeBreaker(async () => 'closed');
    const signals: AbortSignal[] = [];
    await callWithResilience('p', once, breaker, async (signal) => (signals.push(signal), 'ok'), noSleep);
    await expect(callWithResilience('p', once, breaker, async (signal) => (signals.push(signal), Promise.reject(new Error('bad request'))), noSleep)).rejects.toThrow('bad request');
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });

  test('a call past its timeout has its signal aborted and fails then', async () => {
    const { breaker } = fakeBreaker(async () => 'closed');
    let seen: AbortSignal | undefined;
    const call = callWithResilience('p', once, breaker, (signal) => ((seen = signal), new Promise(() => {})), noSleep);
    await expect(call).rejects.toThrow(/timed out/);
    expect(seen?.aborted).toBe(true);
  });

  test('aborting the caller aborts the call in flight', async () => {
    const { breaker } = fakeBreaker(async () => 'closed');
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = callWithResilience('p', settings, breaker, (signal) => ((seen = signal), new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))), { ...noSleep, signal: caller.signal });
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    caller.abort(new Error('shutting down'));
    await expect(call).rejects.toThrow();
    expect(seen?.aborted).toBe(true);
  });
});
