import { describe, expect, it } from 'vitest';
import { WAITING_MATCH_MS, budgetDeferredKey, decodeWaiting, delayedKey, dueAtFromScore, encodeWaiting, waitingFrom, waitingKey } from './waiting.ts';
import { budgetChanged } from './budgetDeferred.ts';
import type { GatewayConfig } from '../config/types.ts';

const DUE = Date.parse('2026-12-01T00:00:00.000Z');
const score = (ms: number, tieBreaker = 7) => String(ms * 0x1000 + tieBreaker);

describe('waitingFrom', () => {
  it.each([
    ['a budget deferral reads budget, until the delayed set says', 'delayed', score(DUE), encodeWaiting('budget', DUE), { reason: 'budget', until: '2026-12-01T00:00:00.000Z' }],
    ['a rate-limit wait', 'delayed', score(DUE), encodeWaiting('rate_limit', DUE), { reason: 'rate_limit', until: '2026-12-01T00:00:00.000Z' }],
    ["a provider's retry-after", 'delayed', score(DUE), encodeWaiting('retry_after', DUE + 3), { reason: 'retry_after', until: '2026-12-01T00:00:00.000Z' }],
    ['no record: BullMQ backoff between attempts', 'delayed', score(DUE), null, { reason: 'backoff', until: '2026-12-01T00:00:00.000Z' }],
    ['a record of an earlier delay does not explain this one', 'delayed', score(DUE), encodeWaiting('rate_limit', DUE - WAITING_MATCH_MS - 1), { reason: 'backoff', until: '2026-12-01T00:00:00.000Z' }],
    ['a malformed record reads as backoff', 'delayed', score(DUE), 'soon|x', { reason: 'backoff', until: '2026-12-01T00:00:00.000Z' }],
    ['a job in the wait list waits for nothing', 'waiting', null, encodeWaiting('budget', DUE), null],
    ['a job promoted out of the delayed set waits for nothing', 'delayed', null, encodeWaiting('budget', DUE), null],
    ['a running job waits for nothing', 'active', null, null, null],
  ])('%s', (_name, state, delayedScore, recorded, expected) => {
    expect(waitingFrom(state, delayedScore, recorded)).toEqual(expected);
  });
});

describe('the waiting record', () => {
  it('round-trips and refuses unknown reasons', () => {
    expect(decodeWaiting(encodeWaiting('budget', DUE + 0.4))).toEqual({ reason: 'budget', untilMs: DUE });
    expect(decodeWaiting('holiday|1')).toBeNull();
    expect(decodeWaiting(null)).toBeNull();
  });

  it("decodes BullMQ's delayed-set score to epoch ms", () => {
    expect(dueAtFromScore(score(DUE, 4095))).toBe(DUE);
    expect(dueAtFromScore(DUE * 4096)).toBe(DUE);
  });
});

describe('budgetChanged', () => {
  const config = (budget: object) => ({ rateLimits: { budget } }) as unknown as GatewayConfig;
  it('sees a change anywhere in the budget, and only there', () => {
    expect(budgetChanged(config({ monthly_usd: 5 }), config({ monthly_usd: 50 }))).toBe(true);
    expect(budgetChanged(config({ monthly_usd: 5, on_exhausted: 'defer' }), config({ monthly_usd: 5, on_exhausted: 'reject' }))).toBe(true);
    expect(budgetChanged(config({ monthly_usd: 5 }), config({ monthly_usd: 5 }))).toBe(false);
  });
});

describe('the keys', () => {
  it("share the queue's hash tag, so a cluster keeps them beside the delayed set", () => {
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    expect(tag(waitingKey('{gw}', 'job-1'))).toBe('gw');
    expect(tag(budgetDeferredKey('{gw}'))).toBe('gw');
    expect(tag(delayedKey('{gw}', 'llm-jobs'))).toBe('gw');
  });
});
