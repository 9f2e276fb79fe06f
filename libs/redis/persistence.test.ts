import { describe, expect, test } from 'vitest';
import { judgeMasters, judgePersistence, type RedisPersistenceConfig } from './persistence.ts';

const safe: RedisPersistenceConfig = { appendonly: 'yes', appendfsync: 'everysec', save: '3600 1 300 100 60 10000', maxmemoryPolicy: 'noeviction' };

describe('judgePersistence', () => {
  test.each<[string, Partial<RedisPersistenceConfig>, string, RegExp[]]>([
    ['AOF everysec, noeviction', {}, 'ok', []],
    ['AOF always, no RDB', { appendfsync: 'always', save: '' }, 'ok', []],
    ['no AOF and no RDB', { appendonly: 'no', save: '' }, 'warn', [/persistence is off/]],
    ['RDB only', { appendonly: 'no' }, 'warn', [/AOF is off/]],
    ['AOF without fsync', { appendfsync: 'no' }, 'warn', [/appendfsync no/]],
    ['an evicting policy', { maxmemoryPolicy: 'allkeys-lru' }, 'warn', [/allkeys-lru can evict/]],
    ['volatile-lru evicts keys with a TTL (idempotency keys)', { maxmemoryPolicy: 'volatile-lru' }, 'warn', [/volatile-lru/]],
    ['both problems', { appendonly: 'no', save: '', maxmemoryPolicy: 'allkeys-random' }, 'warn', [/persistence is off/, /allkeys-random/]],
    ['CONFIG refused', { appendonly: null, appendfsync: null, save: null, maxmemoryPolicy: null }, 'unchecked', []],
    ['only the policy readable', { appendonly: null, appendfsync: null, save: null }, 'ok', []],
  ])('%s', (_name, change, kind, problems) => {
    const verdict = judgePersistence({ ...safe, ...change });
    expect(verdict.kind).toBe(kind);
    const found = verdict.kind === 'warn' ? verdict.problems : [];
    expect(found).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(found[i]).toMatch(p));
  });
});

describe('judgeMasters', () => {
  const refused: RedisPersistenceConfig = { appendonly: null, appendfsync: null, save: null, maxmemoryPolicy: null };

  test('one unsafe master of a cluster is named in the warning', () => {
    const verdict = judgeMasters([['a:7000', safe], ['b:7001', { ...safe, appendonly: 'no', save: '' }]]);
    expect(verdict).toMatchObject({ kind: 'warn', problems: [expect.stringMatching(/^b:7001: persistence is off/)] });
  });

  test('ok when every master is safe; unchecked only when no master could be read', () => {
    expect(judgeMasters([['a:7000', safe], ['b:7001', refused]]).kind).toBe('ok');
    expect(judgeMasters([['a:7000', refused], ['b:7001', refused]]).kind).toBe('unchecked');
  });
});
