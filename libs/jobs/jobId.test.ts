import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isIssuedJobId, newJobId } from './jobId.ts';
import { idempotentJobId } from './idempotency.ts';

describe('isIssuedJobId', () => {
  test('accepts the ids the API issues', () => {
    for (let i = 0; i < 20; i++) expect(isIssuedJobId(randomUUID())).toBe(true);
    expect(isIssuedJobId(idempotentJobId('demo', 'order-1'))).toBe(true);
  });

  test.each([
    ['BullMQ key names', ['events', 'id', 'stalled-check', 'completed', 'wait', 'delayed', 'active', 'meta', 'prioritized', 'marker']],
    ['ids with a key suffix', [`${randomUUID()}:logs`, `${randomUUID()}:lock`, `idem-${'0'.repeat(32)}:dependencies`]],
    ['near misses', [randomUUID().toUpperCase(), ` ${randomUUID()}`, `${randomUUID()}\n`, 'idem-', `idem-${'0'.repeat(31)}`, `idem-${'g'.repeat(32)}`, '00000000-0000-0000-0000-000000000000']],
    ['junk', ['', '%', '1', '__proto__', 'constructor', '../etc/passwd', 'x'.repeat(10_000)]],
  ])('refuses %s', (_name, ids) => {
    for (const id of ids) expect(isIssuedJobId(id)).toBe(false);
  });

  test('new ids are UUID v7: accepted, time-ordered across milliseconds, unique within one', () => {
    const ids = [newJobId(1_700_000_000_000), newJobId(1_700_000_000_001), newJobId(1_800_000_000_000)];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const id of ids) expect(isIssuedJobId(id)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]!.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    const same = Array.from({ length: 1000 }, () => newJobId(1_700_000_000_000));
    expect(new Set(same).size).toBe(1000);
  });
});
