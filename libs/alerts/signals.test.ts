import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { cheapestJobMicros } from './evaluator.ts';
import { alertsTag, bucketKey, isErrorOutcome, longestWindowSeconds, parseBucket } from './signals.ts';
import { noticeJobId } from './notify.ts';

const config = loadConfig('config');

describe('isErrorOutcome', () => {
  test.each([
    [{ status: 'completed', degraded: false, served_by: 'provider' }, false],
    [{ status: 'completed', degraded: false, served_by: 'cache' }, false],
    [{ status: 'completed', degraded: false, served_by: 'failover' }, false],
    [{ status: 'completed', degraded: true, served_by: 'degraded' }, true],
    [{ status: 'failed', degraded: false, served_by: null }, true],
    [{ status: 'rejected', degraded: false, served_by: null }, true],
  ] as const)('%j counts as an error: %s', (record, expected) => expect(isErrorOutcome(record)).toBe(expected));
});

describe('keys and buckets', () => {
  test('alerter keys share their own hash tag, whether the prefix comes braced or not', () => {
    expect(alertsTag('bull')).toBe('{bull:alerts}');
    expect(bucketKey('{bull}', 10, 1_800_000_000)).toBe('{bull:alerts}:sig:10:1800000000');
  });

  test('a bucket hash parses into counters; unknown or out-of-range fields are ignored', () => {
    expect(parseBucket(100, { jobs: '5', errors: '1', l3: '4', l99: '7', dl: '2', 'rlw:openai': '3', other: 'x' })).toEqual({
      start: 100,
      jobs: 5,
      errors: 1,
      latency: [0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      deadLetters: 2,
      rateLimitWaits: { openai: 3 },
    });
  });

  test('buckets live as long as the longest window', () => {
    expect(longestWindowSeconds(config.alerts)).toBe(900);
  });
});

describe('cheapestJobMicros', () => {
  test('the cheapest model with an empty prompt and the smallest output limit', () => {
    // Claude 3.5 Sonnet: 800 output tokens at $15 per million = $0.012.
    expect(cheapestJobMicros(config, new Date('2026-12-02T00:00:00Z'))).toBe(12_000);
  });
});

describe('noticeJobId', () => {
  test('unique per transition, and free of the colons BullMQ refuses', () => {
    const id = noticeJobId({ alert: 'breaker_open/openai', rule: 'breaker_open', status: 'firing', text: '', summary: '', value: null, threshold: 0, at: '2026-12-02T00:00:00.000Z', seq: 3 });
    expect(id).toBe(`alert-breaker_open/openai-3-${Date.parse('2026-12-02T00:00:00.000Z')}`);
    expect(id).not.toContain(':');
  });
});
