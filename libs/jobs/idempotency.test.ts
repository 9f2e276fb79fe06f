import { describe, expect, test } from 'vitest';
import { canonicalJson, fingerprint, idempotentJobId, validateIdempotencyKey } from './idempotency.ts';

describe('idempotency', () => {
  test('equal bodies in another key order have one fingerprint', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(fingerprint({ a: 1, b: 2 })).toBe(fingerprint({ b: 2, a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });

  test('job ids depend on client and key, and are valid BullMQ ids', () => {
    expect(idempotentJobId('a', 'k')).toBe(idempotentJobId('a', 'k'));
    expect(idempotentJobId('a', 'k')).not.toBe(idempotentJobId('b', 'k'));
    expect(idempotentJobId('a', 'k')).toMatch(/^idem-[0-9a-f]{32}$/);
  });

  test('refuses empty, long or non-ASCII keys', () => {
    expect(validateIdempotencyKey('order-123')).toBe('order-123');
    for (const bad of ['', 'x'.repeat(256), 'with space', 'clé']) expect(() => validateIdempotencyKey(bad)).toThrow(/Idempotency-Key/);
  });
});
