import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, test, vi } from 'vitest';
import { OutageTracker, watchRedisOutages, type OutageEvent } from './outage.ts';

describe('OutageTracker', () => {
  test.each<[string, Array<['down', string, number] | ['up', number]>, Array<OutageEvent | null>]>([
    ['an outage logs once when it starts and once when it ends', [['down', 'ECONNREFUSED', 100], ['down', 'ECONNREFUSED', 200], ['down', 'timeout', 300], ['up', 1100], ['up', 1200]], [
      { event: 'redis_unavailable', connection: 'api', reason: 'ECONNREFUSED' },
      null,
      null,
      { event: 'redis_recovered', connection: 'api', duration_ms: 1000, reason: 'ECONNREFUSED' },
      null,
    ]],
    ['answers while up log nothing', [['up', 1], ['up', 2]], [null, null]],
    ['two outages, two pairs', [['down', 'a', 0], ['up', 10], ['down', 'b', 20], ['up', 50]], [
      { event: 'redis_unavailable', connection: 'api', reason: 'a' },
      { event: 'redis_recovered', connection: 'api', duration_ms: 10, reason: 'a' },
      { event: 'redis_unavailable', connection: 'api', reason: 'b' },
      { event: 'redis_recovered', connection: 'api', duration_ms: 30, reason: 'b' },
    ]],
  ])('%s', (_name, steps, expected) => {
    const tracker = new OutageTracker('api');
    expect(steps.map((s) => (s[0] === 'down' ? tracker.down(s[1], s[2]) : tracker.up(s[1])))).toEqual(expected);
  });
});

describe('watchRedisOutages', () => {
  test('a flood of connection errors is two lines', () => {
    const redis = new EventEmitter() as unknown as Redis;
    const warn = vi.fn();
    const info = vi.fn();
    let now = 0;
    const watch = watchRedisOutages(redis, { warn, info }, 'worker', { probeIntervalMs: 0, now: () => now });
    for (; now < 10_000; now += 100) redis.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    redis.emit('end');
    redis.emit('ready');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toEqual({ event: 'redis_unavailable', connection: 'worker', reason: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]?.[0]).toEqual({ event: 'redis_recovered', connection: 'worker', duration_ms: 10_000, reason: 'connect ECONNREFUSED 127.0.0.1:6379' });
    watch.stop();
  });

  test('the probe notices a Redis that stops answering without dropping the connection', async () => {
    vi.useFakeTimers();
    try {
      let answer: (() => void) | undefined;
      const redis = Object.assign(new EventEmitter(), {
        status: 'ready',
        ping: () => new Promise<string>((resolve) => (answer = () => resolve('PONG'))),
      }) as unknown as Redis;
      const warn = vi.fn();
      const info = vi.fn();
      const watch = watchRedisOutages(redis, { warn, info }, 'api', { probeIntervalMs: 1000, probeTimeoutMs: 500, now: () => Date.now() });
      await vi.advanceTimersByTimeAsync(1600);
      expect(warn).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(5000);
      expect(warn).toHaveBeenCalledTimes(1);
      answer!();
      await vi.advanceTimersByTimeAsync(0);
      expect(info).toHaveBeenCalledTimes(1);
      expect(info.mock.calls[0]?.[0]).toMatchObject({ event: 'redis_recovered', connection: 'api', duration_ms: 5100 });
      watch.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
