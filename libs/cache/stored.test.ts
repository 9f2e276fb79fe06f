import { describe, expect, test, vi } from 'vitest';
import { decodeEntry, encodeEntry, freshUntilOf, keyLifetimeMs, lookupEntry, type CachedAnswer } from './stored.ts';

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

  test('freshness is read from the head, and a lookup decodes the answer only when it returns it', () => {
    const raw = encodeEntry(entry, 1000);
    expect(freshUntilOf(raw)).toBe(1000);
    expect(freshUntilOf('{"entry":{},"freshUntil":1000}')).toBeNull();
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(lookupEntry(raw, 1000, false)).toBeNull();
      expect(parse).not.toHaveBeenCalled();
      expect(lookupEntry(raw, 999, false)).toEqual({ entry, stale: false });
      expect(lookupEntry(raw, 1000, true)).toEqual({ entry, stale: true });
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  test('entries of another key order still read (full decode); an earlier version wrote the same layout', () => {
    const reordered = JSON.stringify({ entry, freshUntil: 1000 });
    expect(lookupEntry(reordered, 999, false)).toEqual({ entry, stale: false });
    expect(lookupEntry(reordered, 1000, false)).toBeNull();
    const earlier = `{"freshUntil":1000,"entry":${JSON.stringify(entry)}}`;
    expect(lookupEntry(earlier, 999, false)).toEqual({ entry, stale: false });
    expect(encodeEntry(entry, 1000)).toBe(earlier);
  });
});
