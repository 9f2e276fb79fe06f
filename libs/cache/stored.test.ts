import { describe, expect, test } from 'vitest';
import { decodeEntry, encodeEntry, keyLifetimeMs, type CachedAnswer } from './stored.ts';

const entry: CachedAnswer = { text: 't', provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 1, outputTokens: 2, createdAt: '2024-01-01T00:00:00.000Z' };

describe('stored entries', () => {
  test('round-trip, fresh before the deadline and stale from it', () => {
    const raw = encodeEntry(entry, 1000);
    expect(raw.startsWith('{"freshUntil":1000,')).toBe(true);
    expect(decodeEntry(raw, 999)).toEqual({ entry, stale: false });
    expect(decodeEntry(raw, 1000)).toEqual({ entry, stale: true });
  });

  test('anything unreadable is null', () => {
    for (const raw of [null, undefined, '', 'nope', '{}', '{"freshUntil":"x","entry":{}}', '{"freshUntil":1,"entry":{"text":1}}']) expect(decodeEntry(raw, 0)).toBeNull();
  });

  test('the key lives for the stale TTL, or the fresh one if longer', () => {
    expect(keyLifetimeMs(86400, 604800)).toBe(604_800_000);
    expect(keyLifetimeMs(60, 10)).toBe(60_000);
    expect(() => keyLifetimeMs(0, 10)).toThrow(RangeError);
  });
});
