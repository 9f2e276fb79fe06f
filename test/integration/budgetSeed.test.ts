import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { BudgetStore, type SpendSource } from '../../libs/budget/budgetStore.ts';
import { defineScripts } from '../../libs/budget/scripts.ts';

const kit = redisKit('budget-seed');
const { connect, freshPrefix } = kit;

const NOW = Date.parse('2036-11-25T12:00:00Z');
const limits = (monthlyMicros: number, dailyMicros: number | null = null) => ({ monthlyMicros, dailyMicros });
const TTL = 60_000;

/** A spend source that answers fixed sums for the month (wider window) and the day, and counts its calls. */
function fixedSpend(month: number, day: number): SpendSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async spentMicros(fromIso, toIso) {
      calls.push(`${fromIso}..${toIso}`);
      return fromIso === '2036-11-01T00:00:00.000Z' && toIso === '2036-12-01T00:00:00.000Z' ? month : day;
    },
  };
}

let redis: Redis;
beforeAll(() => {
  redis = connect();
});
afterAll(() => kit.cleanup());

describe('seeding the budget windows from the result store', () => {
  test('a reservation against lost windows seeds them from the store first, and the month is not granted twice', async () => {
    const prefix = freshPrefix();
    const spend = fixedSpend(4_000_000, 1_000_000);
    const budget = new BudgetStore(redis, prefix, { now: () => NOW, spend });
    const granted = await budget.reserve({ holdId: 'a:1', amountMicros: 500_000, limits: limits(5_000_000), ttlMs: TTL });
    expect(granted).toMatchObject({ ok: true, month: { spent: 4_000_000, reserved: 500_000 }, day: { spent: 1_000_000, reserved: 500_000 } });
    expect(spend.calls.sort()).toEqual(['2036-11-01T00:00:00.000Z..2036-12-01T00:00:00.000Z', '2036-11-25T00:00:00.000Z..2036-11-26T00:00:00.000Z']);
    const refused = await budget.reserve({ holdId: 'b:1', amountMicros: 1_100_000, limits: limits(5_000_000), ttlMs: TTL });
    expect(refused).toMatchObject({ ok: false, window: 'month', exhausted: true });
    // Seeded once: later reservations do not ask the store again.
    expect(spend.calls).toHaveLength(2);
  });

  test('the reserve script refuses an unseeded window with -2 and changes nothing', async () => {
    const prefix = freshPrefix();
    const commands = defineScripts(redis);
    const month = `${prefix}:budget:month:2036-11`;
    const day = `${prefix}:budget:day:2036-11-25`;
    const reserve = () =>
      commands.gatewayBudgetReserve(month, day, `${prefix}:budget:holds`, `${prefix}:budget:hold:x:1`, `${prefix}:budget:settled:x:1`, 'x:1', 10, 100, '', NOW + TTL, '2036-11', '2036-11-25', '', '', NOW + 1e9, NOW + 1e9);
    expect(await reserve()).toEqual([-2, 'month']);
    await redis.hset(month, 'seeded', 'then');
    expect(await reserve()).toEqual([-2, 'day']);
    expect(await redis.exists(day, `${prefix}:budget:hold:x:1`, `${prefix}:budget:holds`)).toBe(0);
    expect(await redis.hgetall(month)).toEqual({ seeded: 'then' });
  });

  test('seeding never lowers spend and happens once per window; concurrent reservations ask the store once', async () => {
    const prefix = freshPrefix();
    // Spend kept from before the mark existed, above what the store knows: it stays.
    await redis.hset(`${prefix}:budget:month:2036-11`, 'spent', 7_000_000);
    const spend = fixedSpend(3_000_000, 200_000);
    const budget = new BudgetStore(redis, prefix, { now: () => NOW, spend });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => budget.reserve({ holdId: `c${i}:1`, amountMicros: 1_000, limits: limits(10_000_000), ttlMs: TTL })));
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(spend.calls).toHaveLength(2);
    await budget.settle('c0:1', 1_000);
    const snap = await budget.snapshot();
    expect(snap.month.spent).toBe(7_001_000);
    expect(snap.day.spent).toBe(201_000);
    // Seeding again leaves seeded windows as their settles made them.
    expect(await budget.seedWindows()).toEqual({ month: 7_001_000, day: 201_000, seeded: 0 });
  });

  test('after Redis lost the windows, spend is rebuilt from the store and is at least what it was', async () => {
    const prefix = freshPrefix();
    let stored = 0;
    const spend: SpendSource = { spentMicros: async () => stored };
    const budget = new BudgetStore(redis, prefix, { now: () => NOW, spend });
    for (let i = 0; i < 5; i++) {
      await budget.reserve({ holdId: `d${i}:1`, amountMicros: 100_000, limits: limits(10_000_000), ttlMs: TTL });
      await budget.settle(`d${i}:1`, 80_000);
      stored += 80_000; // the worker stores the finished record after the settle
    }
    const before = (await budget.snapshot()).month.spent;
    await redis.del(`${prefix}:budget:month:2036-11`, `${prefix}:budget:day:2036-11-25`);
    expect((await budget.snapshot()).month.spent).toBe(0);
    expect(await budget.seedWindows()).toEqual({ month: before, day: before, seeded: 2 });
    expect((await budget.snapshot()).month.spent).toBeGreaterThanOrEqual(before);
  });

  test('a store that cannot answer fails the reservation with the store error, admitting nothing', async () => {
    const prefix = freshPrefix();
    const budget = new BudgetStore(redis, prefix, { now: () => NOW, spend: { spentMicros: async () => Promise.reject(new Error('store down')) } });
    await expect(budget.reserve({ holdId: 'e:1', amountMicros: 1, limits: limits(10), ttlMs: TTL })).rejects.toThrow('store down');
    expect((await budget.snapshot()).month.reserved).toBe(0);
  });
});
