/**
 * Jobs deferred by an exhausted budget wait until the window that refused them ends (the next
 * month or UTC day). When an operator raises the budget, they should not wait that long: every
 * worker watches its config, and a change to the budget promotes the deferred jobs so they run at
 * once. Each re-checks the budget when it runs, and one the budget still cannot afford is simply
 * deferred again (and joins the set again).
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { ConfigReloadEvent } from '../config/watch.ts';
import type { RedisClient } from '../redis/client.ts';
import { budgetDeferredKey } from './waiting.ts';

/** True when a reload changed anything in rate_limits.json `budget` (limits, policy, thresholds). */
export function budgetChanged(previous: GatewayConfig, next: GatewayConfig): boolean {
  return JSON.stringify(previous.rateLimits.budget) !== JSON.stringify(next.rateLimits.budget);
}

/**
 * Removes and returns every id of the budget-deferred set in one transaction, so that of many
 * workers reacting to the same reload, each job is promoted by exactly one.
 */
export async function takeBudgetDeferred(redis: RedisClient, prefix: string): Promise<string[]> {
  const key = budgetDeferredKey(prefix);
  const results = await redis.multi().smembers(key).del(key).exec();
  const error = results?.[0]?.[0];
  if (error) throw error;
  return (results?.[0]?.[1] as string[] | undefined) ?? [];
}

/**
 * Promotes the budget-deferred jobs still delayed in `queue` to run now; returns how many were
 * promoted. A job no longer delayed (it ran, was cancelled, or another process promoted it) is
 * skipped.
 */
export async function promoteBudgetDeferred(queue: Queue, redis: RedisClient, prefix: string): Promise<number> {
  const ids = await takeBudgetDeferred(redis, prefix);
  let promoted = 0;
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (!job) continue;
    try {
      // BullMQ refuses a job that is not in the delayed set: then there is nothing to cut short.
      await job.promote();
      promoted++;
    } catch {
      continue;
    }
  }
  return promoted;
}

/** Options for onBudgetChange. */
export interface BudgetChangeOptions {
  queue: Queue;
  redis: RedisClient;
  /** The braced queue prefix. */
  prefix: string;
  log: Logger;
}

/**
 * The ConfigHolder.onReload observer that promotes the budget-deferred jobs after a reload that
 * changed the budget. Returns the promotion in flight (for tests), or null when nothing was done.
 */
export function onBudgetChange(options: BudgetChangeOptions): (event: ConfigReloadEvent) => Promise<number> | null {
  return (event) => {
    if (!event.applied || !budgetChanged(event.previous, event.config)) return null;
    const promoting = promoteBudgetDeferred(options.queue, options.redis, options.prefix);
    promoting.then(
      (promoted) => promoted > 0 && options.log.info({ event: 'budget_deferred_promoted', promoted }, 'the budget changed: deferred jobs run again'),
      (err: unknown) => options.log.error({ err }, 'could not promote the jobs deferred by the budget'),
    );
    return promoting.catch(() => 0);
  };
}

/** Milliseconds between two checks of whether the budget admits deferred jobs again. */
export const BUDGET_DEFERRED_SWEEP_MS = 30_000;

/** Options for startBudgetDeferredSweep. */
export interface BudgetDeferredSweepOptions extends BudgetChangeOptions {
  /** Whether the budget has room for a job now (a settle or a release may have freed some). */
  admits: () => Promise<boolean>;
  /** Milliseconds between checks. @defaultValue BUDGET_DEFERRED_SWEEP_MS (30000) */
  intervalMs?: number;
}

/**
 * Every `intervalMs`, promotes the budget-deferred jobs if the budget admits a job again. It
 * catches what a reload alone misses: a job deferred by a worker that read the old limit while
 * the reload was being handled, or a promotion cut short by a crash. Returns a stop function.
 */
export function startBudgetDeferredSweep(options: BudgetDeferredSweepOptions): { stop(): void; sweep(): Promise<number> } {
  let running = false;
  const sweep = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    try {
      if ((await options.redis.scard(budgetDeferredKey(options.prefix))) === 0) return 0;
      if (!(await options.admits())) return 0;
      const promoted = await promoteBudgetDeferred(options.queue, options.redis, options.prefix);
      if (promoted > 0) options.log.info({ event: 'budget_deferred_promoted', promoted }, 'the budget admits jobs again: deferred jobs run again');
      return promoted;
    } catch (err) {
      options.log.warn({ err }, 'could not check the jobs deferred by the budget');
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), options.intervalMs ?? BUDGET_DEFERRED_SWEEP_MS);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
