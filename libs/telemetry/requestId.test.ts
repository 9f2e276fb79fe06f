import { describe, expect, test } from 'vitest';
import { MAX_REQUEST_ID_LENGTH, isSaneRequestId, requestIdFrom } from './requestId.ts';

describe('request ids', () => {
  test.each(['rails-123', 'a', '0b1f8c2e-4b8a-4c1e-9d7a-2f2a1d6c9e10', 'Root=1-5759e988-bd862e3fe1be46a994272793', 'req.42:abc/def+x=y@z', 'x'.repeat(MAX_REQUEST_ID_LENGTH)])('%j is kept', (id) => {
    expect(isSaneRequestId(id)).toBe(true);
    expect(requestIdFrom(id, () => 'new')).toBe(id);
  });

  test.each(['', ' rails', 'rails 123', 'a\nb', 'a\r\nSet-Cookie: x', '<script>', '"quoted"', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1), '-leading', 'é', 'a\u0000b', '{"level":60}'])('%j is replaced by a new id', (id) => {
    expect(isSaneRequestId(id)).toBe(false);
    expect(requestIdFrom(id, () => 'new')).toBe('new');
  });

  test('a missing header gets a UUID; a repeated one uses the first copy', () => {
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    expect(isSaneRequestId(42)).toBe(false);
  });
});
