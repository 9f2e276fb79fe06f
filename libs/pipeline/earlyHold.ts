/**
 * A budget hold asked for beside the cache lookup, before the run knows whether it will pay. Most
 * requests are distinct, so most runs miss the cache and pay: asking the budget at the same time
 * as the cache saves one sequential Redis round trip per paid job.
 *
 * Why it stays safe:
 * - A run that does not pay (a cache hit, another run's answer) gives the hold back before it
 *   ends, and a follower gives it back as soon as it starts waiting on another run, so waiting
 *   jobs hold no budget. Until then the hold only makes spend look higher: a concurrent
 *   reservation may be refused (and delayed) for it, never granted beyond the cap.
 * - A hold that cannot be given back (Redis failing after its retries) stays open and is charged
 *   by the reaper at its TTL: an overcount, like any hold a failure left open.
 * - The run that pays takes the hold once. A follower that ends up paying after all (its leader
 *   died) reserves anew under another hold id: a given-back id can never be reserved again.
 * - A reservation that failed may still have been made (a timeout after Redis ran it), so giving
 *   it back, or the paying run that took it (obtainAnswer's releaseUnmade), releases its id all
 *   the same; releasing an unknown hold changes nothing.
 * - Giving back is not awaited by a run served from the cache: such an answer must not wait on the
 *   budget's Redis.
 */
import type { Logger } from 'pino';
import { BudgetHold, type HoldGranted } from '../budget/hold.ts';
import type { BudgetStore, ReserveRefused } from '../budget/budgetStore.ts';

/** A reservation's outcome, as reserveHold answers it. */
export type HoldOutcome = HoldGranted | ReserveRefused;

/** A reservation made before the run knows whether it pays (see the file comment). */
export class EarlyHold {
  readonly holdId: string;
  #pending: Promise<HoldOutcome> | undefined;
  #givenBack: Promise<void> | undefined;
  readonly #store: BudgetStore;
  readonly #log: Logger;

  /** Starts `reserve` (for hold `holdId`) now; the caller must end with take() or giveBack(). */
  constructor(holdId: string, reserve: () => Promise<HoldOutcome>, store: BudgetStore, log: Logger) {
    this.holdId = holdId;
    this.#store = store;
    this.#log = log;
    this.#pending = reserve();
    // Awaited by take() or giveBack(); this only keeps a failure from counting as unhandled meanwhile.
    this.#pending.catch(() => {});
  }

  /** The reservation, for the run that pays; undefined once taken or given back (reserve anew, under another id). */
  take(): Promise<HoldOutcome> | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  /** Whether the hold was given back, so a payment needs a reservation of its own. */
  get givenBack(): boolean {
    return this.#givenBack !== undefined;
  }

  /** Gives the hold back unless it was taken; resolves once it is returned (or logged as left to the reaper). Never rejects. */
  giveBack(): Promise<void> {
    if (this.#givenBack) return this.#givenBack;
    const pending = this.#pending;
    if (!pending) return Promise.resolve();
    this.#pending = undefined;
    const hold = new BudgetHold(this.#store, this.holdId, { log: this.#log });
    this.#givenBack = pending
      .then(
        async (outcome) => {
          if (outcome.ok) await outcome.hold.release();
        },
        // Perhaps made all the same (see the file comment).
        async () => {
          await hold.release();
        },
      )
      .catch((err: unknown) => this.#log.error({ err, holdId: this.holdId }, 'could not give back an unused budget hold; the reaper will charge it'));
    return this.#givenBack;
  }
}
