/**
 * What a job gets when its run obtained no answer: a pure decision over the facts of the failure,
 * carried out by the job runner (llmJob.ts handleNoAnswer). No I/O here: the cache lookup, the
 * clock and the jitter are inputs.
 */

import type { WaitingReason } from '../jobs/waiting.ts';

/** Milliseconds (plus up to as much jitter) before a job blocked only by open reservations tries the budget again. */
export const BUDGET_RECHECK_MS = 500;

/** Runs of one job after which a provider's long retry-after no longer delays it (it takes the normal retries). */
export const MAX_RETRY_AFTER_DELAYS = 10;

/** Why no answer came, as the pipeline's errors tell it. */
export type NoAnswerCause =
  | { kind: 'budget_refused'; exhausted: boolean; policy: 'reject' | 'defer' | 'downgrade'; retryAtMs: number }
  | { kind: 'rate_limit_wait'; waitMs: number }
  | { kind: 'provider_rejected'; code: string }
  | { kind: 'providers_unavailable'; retryAfterMs: number | undefined }
  | { kind: 'other'; code: string }
  /** The job's signal stopped the run: its worker is shutting down. */
  | { kind: 'aborted' };

/** Everything the decision needs. */
export interface NoAnswerFacts {
  cause: NoAnswerCause;
  /** This run is the job's last queue attempt. */
  lastAttempt: boolean;
  /** Runs of the job started so far (BullMQ attemptsStarted), delays included. */
  runsStarted: number;
  /**
   * An earlier run of the job may have paid a provider: it settled unusable answers, or it died
   * mid-run (its hold was charged). Such a job is never stored as rejected.
   */
  paidBefore: boolean;
  /** The answer the cache holds for the job (looked up only for an outage), and where from. */
  cached: 'stale_cache' | 'category_cache' | null;
  /** Epoch ms now. */
  nowMs: number;
  /** A number in [0, 1) spreading budget rechecks. */
  jitter: number;
}

/**
 * What to do. `fail` stores the failure and ends the job; `retry` hands the error to the queue's
 * retries; `requeue` puts the job back in the queue at once, using no attempt.
 */
export type NoAnswerDecision =
  /** `waiting` is what the job's status says meanwhile; `budgetDeferred` marks a wait a budget change should cut short. */
  | { kind: 'delay'; until: number; reason: string; waiting: WaitingReason; budgetDeferred?: true }
  | { kind: 'reject'; code: string }
  | { kind: 'cached'; from: 'stale_cache' | 'category_cache' }
  | { kind: 'degraded' }
  | { kind: 'retry' }
  | { kind: 'fail'; code: string }
  | { kind: 'requeue'; reason: string };

/** Decides what a job gets when no answer came. */
export function decideNoAnswer(facts: NoAnswerFacts): NoAnswerDecision {
  const { cause, nowMs } = facts;
  switch (cause.kind) {
    case 'budget_refused':
      // Only reservations in flight block it: some will be finished, so look again shortly.
      if (!cause.exhausted) return { kind: 'delay', until: nowMs + BUDGET_RECHECK_MS + facts.jitter * BUDGET_RECHECK_MS, reason: 'budget held by jobs in flight', waiting: 'budget' };
      if (cause.policy === 'defer') return { kind: 'delay', until: cause.retryAtMs, reason: 'budget window exhausted', waiting: 'budget', budgetDeferred: true };
      // A job something was paid for is a failure of ours, not a refusal of the client's request.
      return facts.paidBefore ? { kind: 'fail', code: 'budget_exhausted' } : { kind: 'reject', code: 'budget_exhausted' };
    case 'rate_limit_wait':
      return { kind: 'delay', until: nowMs + cause.waitMs, reason: 'provider rate limit', waiting: 'rate_limit' };
    case 'provider_rejected':
      return { kind: 'fail', code: cause.code };
    case 'providers_unavailable':
      if (facts.cached) return { kind: 'cached', from: facts.cached };
      if (facts.lastAttempt) return { kind: 'degraded' };
      // The provider said when to come back: wait that long in the queue, without using an attempt.
      if (cause.retryAfterMs !== undefined && facts.runsStarted < MAX_RETRY_AFTER_DELAYS) {
        return { kind: 'delay', until: nowMs + cause.retryAfterMs, reason: 'provider asked to retry later', waiting: 'retry_after' };
      }
      return { kind: 'retry' };
    case 'other':
      return facts.lastAttempt ? { kind: 'fail', code: cause.code } : { kind: 'retry' };
    case 'aborted':
      // Nothing failed: another worker runs the job now, whatever it cost or would fall back to.
      return { kind: 'requeue', reason: 'worker shutting down' };
  }
}
