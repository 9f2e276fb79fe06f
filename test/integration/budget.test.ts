import type { Redis } from 'ioredis';
import { redisKit, seededInts } from '../helpers/redisKit.ts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BudgetStore, type SettleResult } from '../../libs/budget/budgetStore.ts';
import { budgetEventsKey } from '../../libs/budget/alerts.ts';
import { isGatewayError } from '../../libs/errors/index.ts';

const kit = redisKit('budget');
const { connect, freshPrefix } = kit;

const NOV_25 = Date.parse('2036-11-25T12:00:00Z');

/** A clock the test moves by hand. */
function fakeClock(start = NOV_25): { now: () => number; advance: (ms: number) => void; set: (t: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms), set: (v) => (t = v) };
}

let redis: Redis;
beforeAll(() => {
  redis = connect();
});

afterAll(() => kit.cleanup());

const TTL = 60_000;
const limits = (monthlyMicros: number, dailyMicros: number | null = null) => ({ monthlyMicros, dailyMicros });

describe('BudgetStore under concurrency', () => {
  test('2,000 reserve+settle cycles from 4 connections never overshoot, and spend adds up exactly', async () => {
    const prefix = freshPrefix();
    const clock = fakeClock();
    const stores = [0, 1, 2, 3].map(() => new BudgetStore(connect(), prefix, clock.now));
    const sampler = new BudgetStore(connect(), prefix, clock.now);
    const LIMIT = 6_000_000;
    const CYCLES = 2_000;
    const rand = seededInts(42);
    const plan = Array.from({ length: CYCLES }, (_, i) => {
      const worst = 5_000 + rand(10_001);
      return { holdId: `job-${i}:1`, worst, actual: Math.floor(worst / 4) + rand(worst - Math.floor(worst / 4) + 1), delay: rand(6) };
    });

    let next = 0;
    let settledSum = 0;
    let granted = 0;
    let refused = 0;
    let running = true;
    // 4 workers at concurrency 50 each pull cycles from one shared list.
    const worker = async (store: BudgetStore): Promise<void> => {
      while (next < CYCLES) {
        const cycle = plan[next++]!;
        const r = await store.reserve({ holdId: cycle.holdId, amountMicros: cycle.worst, limits: limits(LIMIT), ttlMs: TTL });
        if (!r.ok) {
          expect(r.window).toBe('month');
          refused++;
          continue;
        }
        granted++;
        await new Promise((resolve) => setTimeout(resolve, cycle.delay));
        const s = await store.settle(cycle.holdId, cycle.actual);
        if (s.settled) settledSum += cycle.actual;
      }
    };
    let samples = 0;
    let highest = 0;
    const sample = async (): Promise<void> => {
      while (running) {
        const snap = await sampler.snapshot();
        highest = Math.max(highest, snap.month.spent + snap.month.reserved);
        samples++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const sampling = Promise.all([sample(), sample(), sample(), sample()]);
    await Promise.all(stores.flatMap((s) => Array.from({ length: 50 }, () => worker(s))));
    running = false;
    await sampling;

    const snap = await sampler.snapshot();
    expect(granted + refused).toBe(CYCLES);
    expect(granted).toBeGreaterThan(CYCLES * 0.3);
    expect(refused).toBeGreaterThan(CYCLES * 0.3);
    expect(samples).toBeGreaterThan(50);
    expect(highest).toBeLessThanOrEqual(LIMIT);
    expect(snap.month.spent).toBeLessThanOrEqual(LIMIT);
    expect(snap.month.spent).toBe(settledSum);
    expect(snap.day.spent).toBe(settledSum);
    expect([snap.month.reserved, snap.day.reserved, snap.holds]).toEqual([0, 0, 0]);
    expect(snap.month.limit).toBe(LIMIT);
  });

  test('each threshold of each window is reported exactly once under concurrent settles', async () => {
    const prefix = freshPrefix();
    const clock = fakeClock();
    const stores = [0, 1, 2, 3].map(() => new BudgetStore(connect(), prefix, clock.now));
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const store = stores[i % 4]!;
        const r = await store.reserve({ holdId: `t-${i}`, amountMicros: 10_000, limits: limits(1_000_000, 1_000_000), ttlMs: TTL });
        return r.ok ? store.settle(`t-${i}`, 10_000) : null;
      }),
    );
    const settled = results.filter((r): r is SettleResult => r !== null);
    expect(settled).toHaveLength(100);
    const events = settled.flatMap((r) => r.crossed).map((c) => `${c.window}:${c.period}:${c.threshold}`);
    expect(events.sort()).toEqual(
      ['day:2036-11-25:0.8', 'day:2036-11-25:0.9', 'day:2036-11-25:0.95', 'day:2036-11-25:1', 'month:2036-11:0.8', 'month:2036-11:0.9', 'month:2036-11:0.95', 'month:2036-11:1'],
    );
    // A later settle above the thresholds reports nothing again.
    expect((await stores[0]!.settle('t-0', 1)).crossed).toEqual([]);
    // The settle script itself appended each event to the stream: nothing for a worker to lose.
    const stream = await redis.xrange(budgetEventsKey(prefix), '-', '+');
    const fields = stream.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, k) => [f[2 * k], f[2 * k + 1]])));
    expect(fields.map((f) => `${f.window}:${f.period}:${f.threshold}`).sort()).toEqual(events);
    expect(fields.every((f) => f.type === 'budget.threshold_crossed' && f.at === new Date(NOV_25).toISOString())).toBe(true);
  });
});

describe('BudgetStore idempotency', () => {
  test('reserve twice holds once; settle twice counts once; a settled hold id cannot be reserved again', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    const req = { holdId: 'job:with:colons:1', amountMicros: 5_000, limits: limits(1_000_000), ttlMs: TTL };
    const first = await store.reserve(req);
    const second = await store.reserve(req);
    expect(first).toMatchObject({ ok: true, created: true, month: { spent: 0, reserved: 5_000 } });
    expect(second).toMatchObject({ ok: true, created: false, month: { spent: 0, reserved: 5_000 } });
    expect(await store.settle(req.holdId, 3_000)).toMatchObject({ settled: true, status: 'settled' });
    expect(await store.settle(req.holdId, 3_000)).toMatchObject({ settled: false, status: 'already_settled' });
    const snap = await store.snapshot();
    expect([snap.month.spent, snap.month.reserved, snap.holds]).toEqual([3_000, 0, 0]);
    await expect(store.reserve(req)).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'budget_hold_finished');
  });

  test('release returns the hold once; a settle after release counts nothing', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    await store.reserve({ holdId: 'r:1', amountMicros: 7_000, limits: limits(1_000_000), ttlMs: TTL });
    expect(await store.release('r:1')).toBe(true);
    expect(await store.release('r:1')).toBe(false);
    expect(await store.settle('r:1', 7_000)).toMatchObject({ settled: false, status: 'released' });
    expect(await store.settle('never-reserved', 7_000)).toMatchObject({ settled: false, status: 'unknown' });
    const snap = await store.snapshot();
    expect([snap.month.spent, snap.month.reserved, snap.holds]).toEqual([0, 0, 0]);
  });

  test('a provider that reports more than the worst case is counted in full', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    await store.reserve({ holdId: 'o:1', amountMicros: 1_000, limits: limits(1_000), ttlMs: TTL });
    await store.settle('o:1', 1_200);
    expect((await store.snapshot()).month).toMatchObject({ spent: 1_200, reserved: 0 });
  });

  test('settles into the windows the hold was taken in, even after the month rolls over', async () => {
    const clock = fakeClock(Date.parse('2036-11-30T23:59:59Z'));
    const store = new BudgetStore(redis, freshPrefix(), clock.now);
    await store.reserve({ holdId: 'm:1', amountMicros: 9_000, limits: limits(1_000_000), ttlMs: TTL });
    clock.advance(2_000);
    expect(await store.snapshot()).toMatchObject({ month: { period: '2036-12', spent: 0, reserved: 0 }, holds: 1 });
    await store.settle('m:1', 4_000);
    expect((await store.snapshot()).month).toMatchObject({ spent: 0, reserved: 0 });
    clock.set(Date.parse('2036-11-30T12:00:00Z'));
    expect((await store.snapshot()).month).toMatchObject({ period: '2036-11', spent: 4_000, reserved: 0 });
  });
});

describe('BudgetStore limits', () => {
  test('the daily limit refuses while the month has room, until the next day', async () => {
    const clock = fakeClock();
    const store = new BudgetStore(redis, freshPrefix(), clock.now);
    const lim = limits(1_000_000, 100_000);
    expect((await store.reserve({ holdId: 'd:1', amountMicros: 60_000, limits: lim, ttlMs: TTL })).ok).toBe(true);
    expect(await store.reserve({ holdId: 'd:2', amountMicros: 60_000, limits: lim, ttlMs: TTL })).toMatchObject({
      ok: false,
      window: 'day',
      availableMicros: 40_000,
      retryAtMs: Date.parse('2036-11-26T00:00:00Z'),
      exhausted: false,
    });
    await store.settle('d:1', 60_000);
    expect(await store.reserve({ holdId: 'd:3', amountMicros: 50_000, limits: lim, ttlMs: TTL })).toMatchObject({ ok: false, window: 'day', exhausted: true });
    clock.set(Date.parse('2036-11-26T00:00:00Z'));
    expect(await store.reserve({ holdId: 'd:4', amountMicros: 60_000, limits: lim, ttlMs: TTL })).toMatchObject({ ok: true, month: { spent: 60_000, reserved: 60_000 }, day: { spent: 0, reserved: 60_000 } });
  });

  test('the monthly limit refuses until the month ends', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    await store.reserve({ holdId: 'a', amountMicros: 900, limits: limits(1_000), ttlMs: TTL });
    expect(await store.reserve({ holdId: 'b', amountMicros: 101, limits: limits(1_000), ttlMs: TTL })).toMatchObject({
      ok: false,
      window: 'month',
      availableMicros: 100,
      retryAtMs: Date.parse('2036-12-01T00:00:00Z'),
    });
    expect((await store.reserve({ holdId: 'c', amountMicros: 100, limits: limits(1_000), ttlMs: TTL })).ok).toBe(true);
  });

  test('the snapshot shows limits and a month-end forecast', async () => {
    const clock = fakeClock(Date.parse('2036-11-11T00:00:00Z'));
    const store = new BudgetStore(redis, freshPrefix(), clock.now);
    await store.reserve({ holdId: 's', amountMicros: 2_000, limits: limits(5_000_000_000, 200_000_000), ttlMs: TTL });
    await store.settle('s', 1_000);
    expect(await store.snapshot()).toEqual({
      month: { period: '2036-11', spent: 1_000, reserved: 0, charged: 0, limit: 5_000_000_000, endsAt: Date.parse('2036-12-01T00:00:00Z'), forecastMicros: 3_000 },
      day: { period: '2036-11-11', spent: 1_000, reserved: 0, charged: 0, limit: 200_000_000, endsAt: Date.parse('2036-11-12T00:00:00Z') },
      holds: 0,
    });
  });
});

describe('BudgetStore reaper', () => {
  test('charges expired holds only, in bounded batches, and a later settle corrects each to its real cost once', async () => {
    const clock = fakeClock();
    const store = new BudgetStore(redis, freshPrefix(), clock.now);
    for (const id of ['x1', 'x2', 'x3']) await store.reserve({ holdId: id, amountMicros: 1_000, limits: limits(1_000_000), ttlMs: 1_000 });
    clock.advance(500);
    for (const id of ['y1', 'y2']) await store.reserve({ holdId: id, amountMicros: 3_000, limits: limits(1_000_000), ttlMs: 1_000 });

    clock.advance(499);
    expect(await store.reap()).toEqual({ charged: 0, micros: 0, crossed: [] });
    clock.advance(1);
    expect(await store.reap(2)).toEqual({ charged: 2, micros: 2_000, crossed: [] });
    expect(await store.reap(2)).toEqual({ charged: 1, micros: 1_000, crossed: [] });
    // Dead workers may have been answered: their holds count as spent, not returned.
    expect(await store.snapshot()).toMatchObject({ month: { spent: 3_000, reserved: 6_000, charged: 3_000 }, day: { spent: 3_000, charged: 3_000 }, holds: 2 });

    // The job's kept answer turns up: spend moves to the real cost, once.
    expect(await store.settle('x1', 800)).toMatchObject({ settled: true, status: 'corrected' });
    expect(await store.settle('x1', 800)).toMatchObject({ settled: false, status: 'already_settled' });
    expect(await store.snapshot()).toMatchObject({ month: { spent: 2_800, charged: 2_000 }, day: { spent: 2_800, charged: 2_000 } });
    // Its own worker says no call happened: the charge is taken back, once.
    expect(await store.release('x2')).toBe(true);
    expect(await store.release('x2')).toBe(false);
    expect(await store.settle('x2', 500)).toMatchObject({ settled: false, status: 'released' });
    // An answer dearer than its hold (a provider reporting above the worst case) still counts whole.
    expect(await store.settle('x3', 1_200)).toMatchObject({ status: 'corrected' });

    clock.advance(500);
    expect(await store.reap()).toEqual({ charged: 2, micros: 6_000, crossed: [] });
    expect(await store.reap()).toEqual({ charged: 0, micros: 0, crossed: [] });
    expect(await store.snapshot()).toMatchObject({
      month: { spent: 8_000, reserved: 0, charged: 6_000 },
      day: { spent: 8_000, reserved: 0, charged: 6_000 },
      holds: 0,
    });
  });

  test('charge: an open hold once, at its amount; settle corrects it; a settled or released hold is left alone', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    for (const id of ['c1', 'c2', 'c3']) await store.reserve({ holdId: id, amountMicros: 5_000, limits: limits(1_000_000), ttlMs: TTL });
    expect(await store.charge('c1')).toEqual({ micros: 5_000, crossed: [] });
    expect(await store.charge('c1')).toBeNull();
    await store.settle('c2', 1_000);
    await store.release('c3');
    expect(await store.charge('c2')).toBeNull();
    expect(await store.charge('c3')).toBeNull();
    expect(await store.charge('never-reserved')).toBeNull();
    expect(await store.snapshot()).toMatchObject({ month: { spent: 6_000, reserved: 0, charged: 5_000 }, holds: 0 });
    expect(await store.settle('c1', 0)).toMatchObject({ status: 'corrected' });
    expect(await store.snapshot()).toMatchObject({ month: { spent: 1_000, reserved: 0, charged: 0 } });
  });

  test('a hold returned by an older reaper (a reaped marker) still counts its real cost when settled late', async () => {
    const prefix = freshPrefix();
    const store = new BudgetStore(redis, prefix, fakeClock().now);
    await redis.set(`${prefix}:budget:settled:old`, 'reaped:2036-11:2036-11-25', 'PX', 60_000);
    expect(await store.settle('old', 900)).toMatchObject({ settled: true, status: 'late' });
    expect(await store.settle('old', 900)).toMatchObject({ settled: false, status: 'already_settled' });
    expect(await store.release('old')).toBe(false);
    expect(await store.snapshot()).toMatchObject({ month: { spent: 900, charged: 0 }, day: { spent: 900, charged: 0 } });
  });

  test('a charge that reaches a threshold is announced by the reaper script, once', async () => {
    const prefix = freshPrefix();
    const clock = fakeClock();
    const store = new BudgetStore(redis, prefix, clock.now);
    await store.reserve({ holdId: 'big', amountMicros: 850, limits: limits(1_000), ttlMs: 1_000 });
    clock.advance(1_000);
    expect((await store.reap()).crossed).toEqual([{ window: 'month', period: '2036-11', threshold: 0.8 }]);
    // Corrected below it later: the alert stands (it was true when announced), and is not repeated.
    expect((await store.settle('big', 100)).crossed).toEqual([]);
    const stream = await redis.xrange(budgetEventsKey(prefix), '-', '+');
    expect(stream.map(([, f]) => f.slice(0, 8))).toEqual([['type', 'budget.threshold_crossed', 'window', 'month', 'period', '2036-11', 'threshold', '0.8']]);
  });

  test('rejects amounts that are not integer micro-dollars', async () => {
    const store = new BudgetStore(redis, freshPrefix(), fakeClock().now);
    await expect(store.reserve({ holdId: 'f', amountMicros: 1.5, limits: limits(1_000), ttlMs: TTL })).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'budget_invalid_amount');
    await expect(store.settle('f', -1)).rejects.toSatisfy((e) => isGatewayError(e) && e.code === 'budget_invalid_amount');
  });
});
