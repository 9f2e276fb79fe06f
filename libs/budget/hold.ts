/**
 * A budget hold as an object: created by a reservation, it owns its id and its life (settle,
 * release or charge). Each step is idempotent in Redis, so a step that failed on the way (a
 * dropped connection) is simply tried again; after the last try it is logged and thrown, never
 * dropped silently. A hold left open by a failure is charged by the reaper at its TTL, so a lost
 * step can only overcount, never let spend pass what was paid.
 */
import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import type { BudgetThresholdEvent } from './alerts.ts';
import type { BudgetStore, ReserveGranted, ReserveRefused, ReserveRequest, SettleResult } from './budgetStore.ts';

/** Code of the error a hold step throws once its tries are used up. */
export const BUDGET_HOLD_FAILED = 'budget_hold_failed';

/** How a hold retries its steps. */
export interface HoldOptions {
  log: Logger;
  /** Tries of each step, the first included. @defaultValue 4 */
  tries?: number;
  /** Milliseconds before the second try; doubled before each next one. @defaultValue 100 */
  firstDelayMs?: number;
  /** Waits `ms`; injectable for tests. @defaultValue setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** A granted reservation with its hold. */
export type HoldGranted = ReserveGranted & { hold: BudgetHold };

/** Reserves `req.amountMicros` and answers the hold that owns it, or the refusal. */
export async function reserveHold(store: BudgetStore, req: ReserveRequest, options: HoldOptions): Promise<HoldGranted | ReserveRefused> {
  const granted = await store.reserve(req);
  return granted.ok ? { ...granted, hold: new BudgetHold(store, req.holdId, options) } : granted;
}

/** One hold in the global budget (see budgetStore.ts for what each step does to the windows). */
export class BudgetHold {
  readonly id: string;
  private readonly store: BudgetStore;
  private readonly options: HoldOptions;

  /** The handle of hold `id`, new or rebuilt from an id kept in a job (an answer settled by a later run). */
  constructor(store: BudgetStore, id: string, options: HoldOptions) {
    this.store = store;
    this.id = id;
    this.options = options;
  }

  /** Counts the real cost (correcting a charge made without the answer); a second settle counts nothing. */
  settle(actualMicros: number): Promise<SettleResult> {
    return this.step('settle', () => this.store.settle(this.id, actualMicros));
  }

  /** Returns the hold: only for a run whose provider call certainly never happened. True when this call released it. */
  release(): Promise<boolean> {
    return this.step('release', () => this.store.release(this.id));
  }

  /** Charges the hold at its reserved amount, for a run ending without knowing whether it was answered. */
  charge(): Promise<{ micros: number; crossed: BudgetThresholdEvent[] } | null> {
    return this.step('charge', () => this.store.charge(this.id));
  }

  private async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const { log, tries = 4, firstDelayMs = 100 } = this.options;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        // A bad amount is the caller's bug: trying again cannot help.
        if ((isGatewayError(err) && err.code === 'budget_invalid_amount') || attempt >= tries) {
          log.error({ err, holdId: this.id, step: name, tries: attempt }, `budget hold ${name} failed`);
          throw new GatewayError(BUDGET_HOLD_FAILED, `Budget hold ${this.id}: ${name} failed after ${attempt} tries.`, { cause: err });
        }
        log.warn({ err, holdId: this.id, step: name, attempt }, `budget hold ${name} failed; trying again`);
        await sleep(firstDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}
