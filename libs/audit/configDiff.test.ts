import { describe, expect, test } from 'vitest';
import { diffConfig } from './configDiff.ts';

describe('diffConfig', () => {
  test('the same config has no changes', () => {
    const cfg = { a: 1, b: { c: [1, { d: 'x' }] } };
    expect(diffConfig(cfg, structuredClone(cfg))).toEqual({ changes: [], omitted: 0 });
  });

  test('scalars show old and new; added and removed objects are named only', () => {
    const before = { rateLimits: { monthly_usd: 5000, thresholds: [0.8, 0.9] }, providers: { openai: { timeout_ms: 20000, models: { 'gpt-4': { max: 1 } } } } };
    const after = { rateLimits: { monthly_usd: 4000, thresholds: [0.8, 0.9, 0.95], daily_usd: 200 }, providers: { openai: { timeout_ms: 20000, models: { 'gpt-4o': { max: 1 } } } } };
    expect(diffConfig(before, after).changes).toEqual([
      { path: 'providers.openai.models.gpt-4', change: 'removed' },
      { path: 'providers.openai.models.gpt-4o', change: 'added' },
      { path: 'rateLimits.daily_usd', change: 'added', to: 200 },
      { path: 'rateLimits.monthly_usd', change: 'changed', from: 5000, to: 4000 },
      { path: 'rateLimits.thresholds[2]', change: 'added', to: 0.95 },
    ]);
  });

  test('a change of kind names the path and shows the scalar side', () => {
    expect(diffConfig({ a: { b: 1 }, c: null }, { a: 'flat', c: [1] }).changes).toEqual([
      { path: 'a', change: 'changed', to: 'flat' },
      { path: 'c', change: 'changed', from: null },
    ]);
  });

  test('long strings are cut and long lists of changes counted', () => {
    const { changes } = diffConfig({ p: 'old' }, { p: 'n'.repeat(500) }, { maxValueLength: 10 });
    expect(changes).toEqual([{ path: 'p', change: 'changed', from: 'old', to: `${'n'.repeat(10)}…` }]);
    const many = diffConfig(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])), {}, { maxChanges: 50 });
    expect(many.changes).toHaveLength(50);
    expect(many.omitted).toBe(10);
  });

  test('inherited names such as __proto__ or constructor are plain keys', () => {
    const after = JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}') as unknown;
    expect(diffConfig({}, after).changes).toEqual([
      { path: '__proto__', change: 'added' },
      { path: 'constructor', change: 'added', to: 2 },
    ]);
  });
});
