import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isIssuedJobId } from './jobId.ts';
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
});
