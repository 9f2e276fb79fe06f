import { describe, expect, test } from 'vitest';
import { decideNoAnswer, MAX_RETRY_AFTER_DELAYS, type NoAnswerCause, type NoAnswerDecision, type NoAnswerFacts } from './noAnswer.ts';

const NOW = 1_000_000;
const base: Omit<NoAnswerFacts, 'cause'> = { lastAttempt: false, runsStarted: 1, paidBefore: false, cached: null, nowMs: NOW, jitter: 0.5 };
const refused = (exhausted: boolean, policy: 'reject' | 'defer' | 'downgrade'): NoAnswerCause => ({ kind: 'budget_refused', exhausted, policy, retryAtMs: NOW + 86_400_000 });
const down = (retryAfterMs?: number): NoAnswerCause => ({ kind: 'providers_unavailable', retryAfterMs });

const cases: Array<[string, NoAnswerCause, Partial<NoAnswerFacts>, NoAnswerDecision]> = [
  ['budget held only by jobs in flight: look again shortly, jittered', refused(false, 'reject'), {}, { kind: 'delay', until: NOW + 750, reason: 'budget held by jobs in flight', waiting: 'budget' }],
  ['held by jobs in flight, even when paid before', refused(false, 'reject'), { paidBefore: true }, { kind: 'delay', until: NOW + 750, reason: 'budget held by jobs in flight', waiting: 'budget' }],
  ['exhausted under defer: wait for the window', refused(true, 'defer'), {}, { kind: 'delay', until: NOW + 86_400_000, reason: 'budget window exhausted', waiting: 'budget', budgetDeferred: true }],
  ['exhausted under reject: rejected', refused(true, 'reject'), {}, { kind: 'reject', code: 'budget_exhausted' }],
  ['exhausted, no cheaper model to downgrade to: rejected', refused(true, 'downgrade'), {}, { kind: 'reject', code: 'budget_exhausted' }],
  ['exhausted after an earlier run paid: failed, never rejected', refused(true, 'reject'), { paidBefore: true }, { kind: 'fail', code: 'budget_exhausted' }],
  ['exhausted after an earlier run paid, downgrade: failed', refused(true, 'downgrade'), { paidBefore: true, lastAttempt: true }, { kind: 'fail', code: 'budget_exhausted' }],
  ['a provider rate limit: wait in the queue', { kind: 'rate_limit_wait', waitMs: 7_000 }, {}, { kind: 'delay', until: NOW + 7_000, reason: 'provider rate limit', waiting: 'rate_limit' }],
  ['a provider refused the request: fail at once', { kind: 'provider_rejected', code: 'provider_bad_request' }, {}, { kind: 'fail', code: 'provider_bad_request' }],
  ['outage with the same input cached: the stale answer', down(), { cached: 'stale_cache' }, { kind: 'cached', from: 'stale_cache' }],
  ['outage with the category cached: the generic answer', down(2_000), { cached: 'category_cache', lastAttempt: true }, { kind: 'cached', from: 'category_cache' }],
  ['outage on the last attempt, nothing cached: degraded', down(2_000), { lastAttempt: true }, { kind: 'degraded' }],
  ['outage with a retry-after: wait that long without an attempt', down(30_000), {}, { kind: 'delay', until: NOW + 30_000, reason: 'provider asked to retry later', waiting: 'retry_after' }],
  ['outage with a retry-after, delayed too often: normal retries', down(30_000), { runsStarted: MAX_RETRY_AFTER_DELAYS }, { kind: 'retry' }],
  ['outage without a retry-after: the queue retries', down(), {}, { kind: 'retry' }],
  ['another error before the last attempt: the queue retries', { kind: 'other', code: 'store_unavailable' }, {}, { kind: 'retry' }],
  ['another error on the last attempt: failed with its code', { kind: 'other', code: 'store_unavailable' }, { lastAttempt: true }, { kind: 'fail', code: 'store_unavailable' }],
  ['aborted (worker shutting down): back in the queue at once', { kind: 'aborted' }, {}, { kind: 'requeue', reason: 'worker shutting down' }],
  ['aborted on the last attempt: back in the queue, never degraded or failed', { kind: 'aborted' }, { lastAttempt: true }, { kind: 'requeue', reason: 'worker shutting down' }],
  ['aborted after an earlier run paid: back in the queue, never rejected', { kind: 'aborted' }, { paidBefore: true, runsStarted: MAX_RETRY_AFTER_DELAYS }, { kind: 'requeue', reason: 'worker shutting down' }],
];

describe('decideNoAnswer', () => {
  test.each(cases)('%s', (_name, cause, facts, expected) => {
    expect(decideNoAnswer({ ...base, ...facts, cause })).toEqual(expected);
  });
});
