import { describe, expect, test } from 'vitest';
import pino from 'pino';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import type { BudgetStore } from './budgetStore.ts';
import { BUDGET_HOLD_FAILED, BudgetHold, reserveHold } from './hold.ts';

const log = pino({ level: 'silent' });

/** A store whose steps fail `failures` times, then answer; records the calls and the waits. */
function flakyStore(failures: number, error: unknown = new Error('connection lost')) {
  const calls: string[] = [];
  let left = failures;
  const answer = async <T>(name: string, value: T): Promise<T> => {
    calls.push(name);
    if (left-- > 0) throw error;
    return value;
  };
  const store = {
    settle: (id: string, micros: number) => answer(`settle ${id} ${micros}`, { settled: true, status: 'settled' as const, crossed: [] }),
    release: (id: string) => answer(`release ${id}`, true),
    charge: (id: string) => answer(`charge ${id}`, { micros: 7, crossed: [] }),
    reserve: async (req: { holdId: string }) => ({ ok: true as const, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } }),
  } as unknown as BudgetStore;
  return { store, calls };
}

describe('BudgetHold', () => {
  test.each([
    ['settle', (h: BudgetHold) => h.settle(5), 'settle h 5'],
    ['release', (h: BudgetHold) => h.release(), 'release h'],
    ['charge', (h: BudgetHold) => h.charge(), 'charge h'],
  ])('%s is tried again with doubling waits and answers once the store does', async (_name, run, call) => {
    const { store, calls } = flakyStore(2);
    const waits: number[] = [];
    const hold = new BudgetHold(store, 'h', { log, sleep: async (ms) => void waits.push(ms) });
    await expect(run(hold)).resolves.toBeTruthy();
    expect(calls).toEqual([call, call, call]);
    expect(waits).toEqual([100, 200]);
  });

  test('after the last try the failure is thrown with a stable code and its cause, never dropped', async () => {
    const cause = new Error('redis down');
    const { store, calls } = flakyStore(10, cause);
    const hold = new BudgetHold(store, 'h', { log, tries: 3, sleep: async () => {} });
    const error = await hold.settle(5).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code === BUDGET_HOLD_FAILED).toBe(true);
    expect((error as Error).cause).toBe(cause);
    expect(calls).toHaveLength(3);
  });

  test('an invalid amount is not tried again', async () => {
    const { store, calls } = flakyStore(10, new GatewayError('budget_invalid_amount', 'bad'));
    const hold = new BudgetHold(store, 'h', { log, sleep: async () => {} });
    await expect(hold.settle(-1)).rejects.toSatisfy((e) => isGatewayError(e) && e.code === BUDGET_HOLD_FAILED);
    expect(calls).toHaveLength(1);
  });

  test('reserveHold answers the hold of a granted reservation', async () => {
    const { store } = flakyStore(0);
    const granted = await reserveHold(store, { holdId: 'j:1', amountMicros: 1, limits: { monthlyMicros: 10, dailyMicros: null }, ttlMs: 1 }, { log });
    expect(granted.ok && granted.hold.id).toBe('j:1');
  });
});
