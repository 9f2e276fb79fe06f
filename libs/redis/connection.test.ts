import { describe, expect, test } from 'vitest';
import { logRedisErrors } from './connection.ts';

describe('logRedisErrors', () => {
  test('one line per interval, counting the errors it left out', () => {
    let now = 0;
    const lines: Array<{ fields: object; msg: string }> = [];
    const onError = logRedisErrors({ warn: (fields, msg) => lines.push({ fields, msg }) }, 'api', 10_000, () => now);
    onError(new Error('connect ECONNREFUSED'));
    for (now = 1; now < 10_000; now += 1000) onError(new Error('connect ECONNREFUSED'));
    now = 10_000;
    onError(new Error('connect ETIMEDOUT'));
    expect(lines).toEqual([
      { fields: { event: 'redis_connection_error', connection: 'api', err: 'connect ECONNREFUSED', skipped: 0 }, msg: 'Redis connection api: connect ECONNREFUSED' },
      { fields: { event: 'redis_connection_error', connection: 'api', err: 'connect ETIMEDOUT', skipped: 10 }, msg: 'Redis connection api: connect ETIMEDOUT' },
    ]);
  });
});
