import { describe, expect, test } from 'vitest';
import type { AlertCondition } from './conditions.ts';
import { decide, decodeState, encodeState, noticeFor, type AlertState } from './transitions.ts';

const NOW = 1_000_000;
const cond = (active: boolean | null, window?: string): AlertCondition => ({
  id: 'x',
  rule: 'latency_p95',
  active,
  value: 4,
  threshold: 3,
  summary: 'p95 4 s',
  ...(window ? { window } : {}),
});
const firing: AlertState = { firing: true, since: 1, seq: 1 };
const quiet: AlertState = { firing: false, since: 1, seq: 2 };

describe('decide', () => {
  test.each<[string, AlertState | undefined, AlertCondition | undefined, string]>([
    ['a new condition fires', undefined, cond(true), 'fire'],
    ['a held condition stays quiet', firing, cond(true), 'none'],
    ['an ended condition resolves', firing, cond(false), 'resolve'],
    ['a quiet alert stays quiet', quiet, cond(false), 'none'],
    ['an unreadable condition changes nothing', firing, cond(null), 'none'],
    ['an unreadable condition never fires', undefined, cond(null), 'none'],
    ['a disabled firing alert resolves', firing, undefined, 'resolve'],
    ['a disabled quiet alert stays quiet', quiet, undefined, 'none'],
    ['a budget alert fires in a new window', { ...quiet, window: 'month:2026-11' }, cond(true, 'month:2026-12'), 'fire'],
    ['a budget alert fires once per window', { ...quiet, window: 'month:2026-12' }, cond(true, 'month:2026-12'), 'none'],
    ['a budget alert still resolves in its window', { ...firing, window: 'month:2026-12' }, cond(false, 'month:2026-12'), 'resolve'],
  ])('%s', (_name, prev, condition, kind) => {
    expect(decide(prev, condition, NOW).kind).toBe(kind);
  });

  test('firing counts the transition and keeps the window', () => {
    expect(decide({ ...quiet, window: 'month:2026-11' }, cond(true, 'month:2026-12'), NOW)).toEqual({ kind: 'fire', next: { firing: true, since: NOW, seq: 3, window: 'month:2026-12' } });
  });

  test('resolving says why', () => {
    expect(decide(firing, undefined, NOW)).toMatchObject({ kind: 'resolve', reason: 'disabled', next: { firing: false, seq: 2 } });
    expect(decide(firing, cond(false), NOW)).toMatchObject({ kind: 'resolve', reason: 'condition_ended' });
  });
});

describe('decide with resolve_after', () => {
  const AFTER = 60_000;
  test('an ended condition is tracked first, not resolved', () => {
    expect(decide(firing, cond(false), NOW, AFTER)).toEqual({ kind: 'track', next: { ...firing, clearSince: NOW } });
  });
  test('it resolves once the condition has stayed ended long enough, and forgets when it ended', () => {
    const clearing = { ...firing, clearSince: NOW };
    expect(decide(clearing, cond(false), NOW + AFTER - 1, AFTER).kind).toBe('none');
    expect(decide(clearing, cond(false), NOW + AFTER, AFTER)).toEqual({ kind: 'resolve', reason: 'condition_ended', next: { firing: false, since: NOW + AFTER, seq: 2 } });
  });
  test('a condition back before then keeps the alert firing, without a notice', () => {
    expect(decide({ ...firing, clearSince: NOW }, cond(true), NOW + 1, AFTER)).toEqual({ kind: 'track', next: firing });
  });
  test('flapping at the threshold pages once', () => {
    let state: AlertState | undefined;
    const notices: string[] = [];
    for (let t = 0; t < 40; t++) {
      const d = decide(state, cond(t < 30 ? t % 2 === 0 : false), NOW + t * 15_000, AFTER);
      if (d.kind === 'none') continue;
      state = d.next;
      if (d.kind !== 'track') notices.push(`${d.kind}@${t}`);
    }
    expect(notices).toEqual(['fire@0', 'resolve@33']);
  });
  test('an unreadable condition neither resolves nor forgets', () => {
    expect(decide({ ...firing, clearSince: NOW }, cond(null), NOW + AFTER, AFTER).kind).toBe('none');
  });
  test('disabling still resolves at once', () => {
    expect(decide({ ...firing, clearSince: NOW }, undefined, NOW + 1, AFTER)).toEqual({ kind: 'resolve', reason: 'disabled', next: { firing: false, since: NOW + 1, seq: 2 } });
  });
});

describe('state encoding', () => {
  test('round-trips', () => {
    const s: AlertState = { firing: true, since: 5, seq: 7, window: 'day:2026-12-02', clearSince: 9 };
    expect(decodeState(encodeState(s))).toEqual(s);
  });
  test.each([null, '', 'nope', '{"firing":"yes","seq":1}'])('%j reads as never seen', (raw) => expect(decodeState(raw)).toBeUndefined());
});

describe('noticeFor', () => {
  test('a firing notice carries Slack text and the measurement', () => {
    const d = decide(undefined, cond(true), NOW);
    if (d.kind === 'none' || d.kind === 'track') throw new Error('expected a transition');
    expect(noticeFor('latency_p95', d, cond(true), NOW)).toEqual({
      alert: 'latency_p95',
      rule: 'latency_p95',
      status: 'firing',
      text: ':rotating_light: FIRING [llm-gateway] latency_p95: p95 4 s',
      summary: 'p95 4 s',
      value: 4,
      threshold: 3,
      at: new Date(NOW).toISOString(),
      seq: 1,
    });
  });
  test('a disabled alert resolves with its rule named from the id', () => {
    const d = decide(firing, undefined, NOW);
    if (d.kind === 'none' || d.kind === 'track') throw new Error('expected a transition');
    expect(noticeFor('budget_day_80', d, undefined, NOW)).toMatchObject({ rule: 'budget', status: 'resolved' });
    expect(noticeFor('breaker_open/openai', d, undefined, NOW)).toMatchObject({ rule: 'breaker_open', text: expect.stringContaining('RESOLVED') });
  });
});
