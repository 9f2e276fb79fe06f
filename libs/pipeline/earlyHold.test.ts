import { describe, expect, test } from 'vitest';
import pino from 'pino';
import { EarlyHold, type HoldOutcome } from './earlyHold.ts';
import { BudgetHold } from '../budget/hold.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';

const log = pino({ level: 'silent' });

/** A budget store that only records releases (the one step an early hold may take by itself). */
function releasesStore(fail = false): { store: BudgetStore; released: string[] } {
  const released: string[] = [];
  const store = {
    release: async (id: string) => {
      if (fail) throw new Error('redis down');
      released.push(id);
      return true;
    },
  } as unknown as BudgetStore;
  return { store, released };
}

const granted = (store: BudgetStore, id: string): HoldOutcome => ({
  ok: true,
  holdId: id,
  created: true,
  month: { spent: 0, reserved: 1 },
  day: { spent: 0, reserved: 1 },
  hold: new BudgetHold(store, id, { log, tries: 1 }),
});

describe('EarlyHold', () => {
  test('taken by the run that pays: the reservation is its, and giving back afterwards changes nothing', async () => {
    const { store, released } = releasesStore();
    const early = new EarlyHold('h1', async () => granted(store, 'h1'), store, log);
    const outcome = await early.take();
    expect(outcome?.ok).toBe(true);
    expect(early.take()).toBeUndefined();
    await early.giveBack();
    expect(released).toEqual([]);
    expect(early.givenBack).toBe(false);
  });

  test('given back by a run that did not pay: released once, and no longer takeable', async () => {
    const { store, released } = releasesStore();
    const early = new EarlyHold('h2', async () => granted(store, 'h2'), store, log);
    await Promise.all([early.giveBack(), early.giveBack()]);
    expect(released).toEqual(['h2']);
    expect(early.givenBack).toBe(true);
    expect(early.take()).toBeUndefined();
  });

  test('a refused reservation holds nothing: nothing to give back', async () => {
    const { store, released } = releasesStore();
    const refused: HoldOutcome = { ok: false, window: 'month', availableMicros: 0, retryAtMs: 0, exhausted: true, month: { spent: 1, reserved: 0 }, day: { spent: 1, reserved: 0 } };
    const early = new EarlyHold('h3', async () => refused, store, log);
    await early.giveBack();
    expect(released).toEqual([]);
  });

  test('a reservation that failed may have been made all the same: its id is released', async () => {
    const { store, released } = releasesStore();
    const early = new EarlyHold('h4', async () => Promise.reject(new Error('timeout')), store, log);
    await early.giveBack();
    expect(released).toEqual(['h4']);
  });

  test('a hold that cannot be given back is left to the reaper; giving back never rejects', async () => {
    const { store } = releasesStore(true);
    const early = new EarlyHold('h5', async () => granted(store, 'h5'), store, log);
    await expect(early.giveBack()).resolves.toBeUndefined();
  });
});
