import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { createRedis } from '../../libs/redis/connection.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';
import type { BreakerSettings } from '../../libs/config/types.ts';
import { SharedBreaker, type BreakerState } from '../../libs/resilience/sharedBreaker.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{test-resilience-${randomUUID()}}`;
// Two connections stand for two worker processes.
const redisA = createRedis(REDIS_URL, 'resilience-test-a');
const redisB = createRedis(REDIS_URL, 'resilience-test-b');
const settings: BreakerSettings = {
  consecutive_failures: 5,
  failure_rate: 0.5,
  sampling_window_ms: 30_000,
  minimum_throughput: 10,
  half_open_after_ms: 30_000,
};
const TRIAL_TTL = 5_000;

let clock = 1_700_000_000_000;
const now = () => clock;
let provider: string;
let a: SharedBreaker;
let b: SharedBreaker;
let transitions: [string, BreakerState, BreakerState][];

beforeEach(() => {
  provider = `p-${randomUUID().slice(0, 8)}`;
  a = new SharedBreaker(redisA, prefix, now);
  b = new SharedBreaker(redisB, prefix, now);
  transitions = [];
  a.onTransition((p, from, to) => transitions.push([p, from, to]));
});

afterAll(async () => {
  await unlinkPrefix(redisA, prefix);
  redisA.disconnect();
  redisB.disconnect();
});


/** Acquires and records `n` outcomes through `breaker`, one after another. */
async function calls(breaker: SharedBreaker, outcome: 'success' | 'failure' | 'ignore', n: number, s = settings): Promise<BreakerState> {
  let state: BreakerState = 'closed';
  for (let i = 0; i < n; i++) {
    const permit = await breaker.acquire(provider, s, TRIAL_TTL);
    expect(permit.allowed).toBe(true);
    state = await breaker.record(permit, outcome);
  }
  return state;
}

async function openBreaker(): Promise<void> {
  expect(await calls(a, 'failure', settings.consecutive_failures)).toBe('open');
}

describe('SharedBreaker', () => {
  test('an unknown provider is closed and leaves no key behind', async () => {
    const permit = await a.acquire(provider, settings, TRIAL_TTL);
    expect(permit).toMatchObject({ allowed: true, state: 'closed', isTrial: false });
    expect(await a.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(await redisA.exists(a.key(provider))).toBe(0);
  });

  test('5 consecutive failures open the breaker, and the key expires by itself', async () => {
    expect(await calls(a, 'failure', 4)).toBe('closed');
    expect(await a.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 4 });
    expect(await calls(a, 'failure', 1)).toBe('open');
    expect(transitions).toEqual([[provider, 'closed', 'open']]);
    expect(await a.state(provider)).toEqual({ state: 'open', openUntil: clock + 30_000, consecutiveFailures: 5 });
    const refused = await a.acquire(provider, settings, TRIAL_TTL);
    expect(refused).toEqual({ allowed: false, provider, state: 'open', retryAtMs: clock + 30_000 });
    expect(a.key(provider)).toBe(`${prefix.slice(0, -1)}:breaker:${provider}}`);
    const ttl = await redisA.pttl(a.key(provider));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3 * 30_000);
  });

  test('a success resets the consecutive count', async () => {
    await calls(a, 'failure', 4);
    await calls(a, 'success', 1);
    expect(await calls(a, 'failure', 4)).toBe('closed');
    expect((await a.state(provider)).consecutiveFailures).toBe(4);
  });

  test('failure ratio opens only with minimum throughput in the window', async () => {
    const ratio = { ...settings, consecutive_failures: 100 };
    // 4 successes + 5 failures = 9 calls: 55% failures but below the minimum throughput of 10.
    await calls(a, 'success', 4, ratio);
    expect(await calls(b, 'failure', 5, ratio)).toBe('closed');
    // The 10th call, a failure: 6 of 10 >= 0.5.
    expect(await calls(a, 'failure', 1, ratio)).toBe('open');
    expect(await b.state(provider)).toMatchObject({ state: 'open' });
  });

  test('failure ratio below the threshold keeps the breaker closed', async () => {
    const ratio = { ...settings, consecutive_failures: 100 };
    await calls(a, 'success', 6, ratio);
    expect(await calls(a, 'failure', 4, ratio)).toBe('closed'); // 40%
    await calls(a, 'success', 2, ratio);
    expect(await calls(a, 'failure', 1, ratio)).toBe('closed'); // 5 of 13
  });

  test('calls older than the sampling window no longer count', async () => {
    const ratio = { ...settings, consecutive_failures: 100 };
    await calls(a, 'failure', 9, ratio);
    clock += 31_000;
    // Only this call is in the window now: 1 of 1 fails, but throughput 1 < 10.
    expect(await calls(a, 'failure', 1, ratio)).toBe('closed');
    await calls(a, 'success', 5, ratio);
    // 10 calls in the window, 5 failures: 50% opens.
    expect(await calls(a, 'failure', 4, ratio)).toBe('open');
  });

  test('half-open lets exactly one trial through when 20 acquirers race on two connections', async () => {
    await openBreaker();
    clock += 29_999;
    expect((await b.acquire(provider, settings, TRIAL_TTL)).allowed).toBe(false);
    clock += 1;
    const permits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).acquire(provider, settings, TRIAL_TTL)),
    );
    const allowed = permits.filter((p) => p.allowed);
    expect(allowed).toHaveLength(1);
    expect(allowed[0]).toMatchObject({ isTrial: true, state: 'half_open' });
    for (const p of permits.filter((p) => !p.allowed)) {
      expect(p).toMatchObject({ state: 'half_open', retryAtMs: clock + TRIAL_TTL });
    }
    expect(await a.state(provider)).toMatchObject({ state: 'half_open' });
  });

  test('trial success closes the breaker and resets its counters', async () => {
    await openBreaker();
    clock += 30_000;
    const trial = await b.acquire(provider, settings, TRIAL_TTL);
    expect(trial).toMatchObject({ allowed: true, isTrial: true });
    expect(await b.record(trial, 'success')).toBe('closed');
    expect(await a.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(await a.acquire(provider, settings, TRIAL_TTL)).toMatchObject({ allowed: true, state: 'closed', isTrial: false });
    // Counters start from zero: four more failures do not re-open it.
    expect(await calls(a, 'failure', 4)).toBe('closed');
  });

  test('trial failure re-opens the breaker for another half_open_after_ms', async () => {
    await openBreaker();
    clock += 30_000;
    const trial = await a.acquire(provider, settings, TRIAL_TTL);
    expect(transitions.at(-1)).toEqual([provider, 'open', 'half_open']);
    expect(await a.record(trial, 'failure')).toBe('open');
    expect(transitions.at(-1)).toEqual([provider, 'half_open', 'open']);
    expect(await b.acquire(provider, settings, TRIAL_TTL)).toEqual({ allowed: false, provider, state: 'open', retryAtMs: clock + 30_000 });
    clock += 30_000;
    expect(await b.acquire(provider, settings, TRIAL_TTL)).toMatchObject({ allowed: true, isTrial: true });
  });

  test('a trial holder that never records loses the token after trial_ttl_ms', async () => {
    await openBreaker();
    clock += 30_000;
    const lost = await a.acquire(provider, settings, TRIAL_TTL);
    expect(lost).toMatchObject({ allowed: true, isTrial: true });
    clock += TRIAL_TTL - 1;
    expect((await b.acquire(provider, settings, TRIAL_TTL)).allowed).toBe(false);
    clock += 1;
    const next = await b.acquire(provider, settings, TRIAL_TTL);
    expect(next).toMatchObject({ allowed: true, isTrial: true });
    // The stale holder's late answer cannot settle the new trial.
    expect(await a.record(lost, 'success')).toBe('half_open');
    expect((await a.acquire(provider, settings, TRIAL_TTL)).allowed).toBe(false);
    expect(await b.record(next, 'failure')).toBe('open');
  });

  test("'ignore' outcomes change nothing", async () => {
    await calls(a, 'failure', 4);
    expect(await calls(b, 'ignore', 20)).toBe('closed');
    expect(await a.state(provider)).toEqual({ state: 'closed', consecutiveFailures: 4 });
    expect(await calls(a, 'failure', 1)).toBe('open');
    const before = await redisA.hgetall(a.key(provider));
    clock += 30_000;
    const trial = await a.acquire(provider, settings, TRIAL_TTL);
    // An ignored trial (e.g. our own 400) only hands the token back, so another process may try.
    expect(await a.record(trial, 'ignore')).toBe('half_open');
    const retrial = await b.acquire(provider, settings, TRIAL_TTL);
    expect(retrial).toMatchObject({ allowed: true, isTrial: true });
    expect(before.cf).toBe('5');
  });

  test('late results of calls started before the breaker opened are ignored', async () => {
    const early = await b.acquire(provider, settings, TRIAL_TTL);
    await openBreaker();
    expect(await b.record(early, 'success')).toBe('open');
    expect(await a.state(provider)).toMatchObject({ state: 'open' });
  });

  test('a breaker opened through one connection refuses on another', async () => {
    await openBreaker();
    const refused = await b.acquire(provider, settings, TRIAL_TTL);
    expect(refused).toMatchObject({ allowed: false, state: 'open' });
    expect(await b.state(provider)).toMatchObject({ state: 'open', openUntil: clock + 30_000 });
  });

  test('breakers of different providers are independent', async () => {
    await openBreaker();
    const other = await a.acquire(`${provider}-other`, settings, TRIAL_TTL);
    expect(other).toMatchObject({ allowed: true, state: 'closed' });
  });

  test('a shorter half_open_after_ms from a config reload applies to an already open breaker', async () => {
    await openBreaker();
    clock += 5_000;
    const permit = await a.acquire(provider, { ...settings, half_open_after_ms: 5_000 }, TRIAL_TTL);
    expect(permit).toMatchObject({ allowed: true, isTrial: true });
  });
});
