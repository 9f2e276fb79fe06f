import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { chooseLane, customIdOf, decideBatchWake, flushDue, realtimeFallbackAt, type ItemOutcome, type LaneFacts } from './lane.ts';

const settings = { enabled: true, max_items: 100, max_age_ms: 60_000, poll_interval_ms: 10_000, min_deadline_s: 900, realtime_margin_s: 600 };
const NOW = Date.parse('2026-12-02T12:00:00Z');
const facts = (over: Partial<LaneFacts> = {}): LaneFacts => ({ settings, deadlineMs: NOW + 3_600_000, nowMs: NOW, hasBatchPrice: true, providerBatches: true, triedBatch: false, ...over });

describe('chooseLane', () => {
  test('a deadline an hour off rides the batch lane', () => expect(chooseLane(facts())).toBe('batch'));
  test.each<[string, Partial<LaneFacts>]>([
    ['no deadline', { deadlineMs: undefined }],
    ['a deadline closer than min_deadline_s', { deadlineMs: NOW + 899_999 }],
    ['the lane disabled', { settings: { ...settings, enabled: false } }],
    ['no lane configured', { settings: undefined }],
    ['no batch price for the model', { hasBatchPrice: false }],
    ['no batch client for the provider', { providerBatches: false }],
    ['a job that tried the lane already', { triedBatch: true }],
  ])('%s: realtime', (_name, over) => expect(chooseLane(facts(over))).toBe('realtime'));
  test('exactly min_deadline_s off still rides it', () => expect(chooseLane(facts({ deadlineMs: NOW + 900_000 }))).toBe('batch'));
});

describe('decideBatchWake', () => {
  const deadline = NOW + 3_600_000;
  const fallback = realtimeFallbackAt(deadline, settings);
  const answer: ItemOutcome = { kind: 'succeeded', text: 'plan', model: 'gpt-4', inputTokens: 10, outputTokens: 20, cachedInputTokens: 0, finishReason: 'stop', costMicros: 750, latencyMs: 5 };
  const errored: ItemOutcome = { kind: 'errored', code: 'provider_error', message: 'boom' };

  test('the fallback time is the margin before the deadline', () => expect(fallback).toBe(deadline - 600_000));
  test('an answer is taken, even after the deadline', () => {
    expect(decideBatchWake(answer, NOW, deadline, fallback)).toEqual({ kind: 'answer', outcome: answer });
    expect(decideBatchWake(answer, deadline + 1, deadline, fallback).kind).toBe('answer');
  });
  test('a failed item goes to the realtime lane while the deadline allows', () => {
    expect(decideBatchWake(errored, NOW, deadline, fallback)).toMatchObject({ kind: 'realtime', reason: expect.stringContaining('errored') });
    expect(decideBatchWake({ kind: 'expired', code: 'batch_expired', message: '' }, fallback + 1, deadline, fallback).kind).toBe('realtime');
  });
  test('a failed item past the deadline fails with a stable code', () => {
    expect(decideBatchWake(errored, deadline, deadline, fallback)).toMatchObject({ kind: 'fail', code: 'batch_deadline_missed' });
  });
  test('no outcome yet: wait until the fallback time, then go realtime, then fail', () => {
    expect(decideBatchWake(undefined, NOW, deadline, fallback)).toEqual({ kind: 'wait', untilMs: fallback });
    expect(decideBatchWake(undefined, fallback, deadline, fallback)).toMatchObject({ kind: 'realtime', reason: expect.stringContaining('in time') });
    expect(decideBatchWake(undefined, deadline, deadline, fallback).kind).toBe('fail');
  });
  test('property: a job never waits past its fallback time, and never goes realtime after its deadline', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.constantFrom<ItemOutcome | undefined>(undefined, answer, errored), (offset, outcome) => {
        const now = NOW + offset;
        const d = decideBatchWake(outcome, now, deadline, fallback);
        if (d.kind === 'wait') expect(d.untilMs).toBeLessThanOrEqual(fallback);
        if (d.kind === 'realtime') expect(now).toBeLessThan(deadline);
      }),
    );
  });
});

describe('flushDue', () => {
  test('full or old enough', () => {
    expect(flushDue(100, NOW, NOW, settings)).toBe(true);
    expect(flushDue(1, NOW - 60_000, NOW, settings)).toBe(true);
    expect(flushDue(99, NOW - 59_999, NOW, settings)).toBe(false);
    expect(flushDue(0, undefined, NOW, settings)).toBe(false);
  });
});

describe('customIdOf', () => {
  test('a UUID stays itself; a category job id becomes a stable digest the batch APIs accept', () => {
    expect(customIdOf('01a237c0-0fad-7219-9bb0-29a7a0546177')).toBe('01a237c0-0fad-7219-9bb0-29a7a0546177');
    const id = customIdOf('category-{c:demo}:career:v1:gpt4:healthcare|bachelor|3-5-123');
    expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(customIdOf('category-{c:demo}:career:v1:gpt4:healthcare|bachelor|3-5-123')).toBe(id);
  });
  test('property: every id maps to a valid custom id, distinct ids to distinct ones', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (a, b) => {
        expect(customIdOf(a)).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        if (a !== b) expect(customIdOf(a)).not.toBe(customIdOf(b));
      }),
    );
  });
});
