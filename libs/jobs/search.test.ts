import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/index.ts';
import { SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, decodeCursor, encodeCursor, parseJobSearch } from './search.ts';

/** The error parseJobSearch throws for `raw`, as {code, paths}. */
function refusal(raw: Record<string, unknown>): { code: string; paths: (string | undefined)[] } {
  try {
    parseJobSearch('client-a', raw);
  } catch (e) {
    if (!isGatewayError(e)) throw e;
    expect(e.status).toBe(400);
    return { code: e.code, paths: e.details.map((d) => d.path) };
  }
  throw new Error('expected a refusal');
}

describe('parseJobSearch', () => {
  it('answers the client scope and the default limit for an empty query', () => {
    expect(parseJobSearch('client-a', {})).toEqual({ clientId: 'client-a', limit: SEARCH_DEFAULT_LIMIT });
  });

  it('reads every filter', () => {
    expect(
      parseJobSearch('client-a', {
        user_id: 'u1',
        status: 'completed,failed,completed',
        since: '2025-03-01',
        until: '2025-03-02T10:00:00+02:00',
        'metadata.plan': 'pro',
        'metadata.rails_request-id': 'r 1',
        limit: '200',
      }),
    ).toEqual({
      clientId: 'client-a',
      userId: 'u1',
      statuses: ['completed', 'failed'],
      since: '2025-03-01T00:00:00.000Z',
      until: '2025-03-02T08:00:00.000Z',
      metadata: { plan: 'pro', 'rails_request-id': 'r 1' },
      limit: SEARCH_MAX_LIMIT,
    });
  });

  it('resumes after the position a cursor names', () => {
    const cursor = encodeCursor({ created_at: '2025-03-01T10:00:00.000Z', id: 'job-1' });
    expect(parseJobSearch('client-a', { cursor }).after).toEqual({ created_at: '2025-03-01T10:00:00.000Z', id: 'job-1' });
  });

  it.each([
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit over the maximum', { limit: String(SEARCH_MAX_LIMIT + 1) }, 'limit'],
    ['a fractional limit', { limit: '1.5' }, 'limit'],
    ['a negative limit', { limit: '-1' }, 'limit'],
    ['an unknown status', { status: 'done' }, 'status'],
    ['an empty status in a list', { status: 'completed,' }, 'status'],
    ['a time that is not ISO-8601', { since: 'yesterday' }, 'since'],
    ['a day that does not exist', { until: '2025-02-30' }, 'until'],
    ['a time without a zone', { since: '2025-03-01T10:00:00' }, 'since'],
    ['until not after since', { since: '2025-03-02', until: '2025-03-01' }, 'until'],
    ['an empty user_id', { user_id: '' }, 'user_id'],
    ['a repeated parameter', { user_id: ['u1', 'u2'] }, 'user_id'],
    ['a metadata key with a dot', { 'metadata.a.b': 'x' }, 'metadata.a.b'],
    ['a metadata key with an operator', { 'metadata.$where': 'x' }, 'metadata.$where'],
    ['an empty metadata key', { 'metadata.': 'x' }, 'metadata.'],
    ['too many metadata filters', Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`metadata.k${i}`, 'v'])), 'metadata'],
    ['an unknown parameter', { userid: 'u1' }, 'userid'],
  ])('refuses %s with invalid_query naming it', (_name, raw, path) => {
    expect(refusal(raw)).toEqual({ code: 'invalid_query', paths: [path] });
  });

  it('names every bad parameter at once', () => {
    expect(refusal({ limit: '0', status: 'x' }).paths).toEqual(['limit', 'status']);
  });
});

describe('cursors', () => {
  it('round-trip a position', () => {
    const at = { created_at: '2025-03-01T10:00:00.000Z', id: 'a7f0c1e2-0000-4000-8000-000000000000' };
    const cursor = encodeCursor(at);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(at);
  });

  it.each([
    ['not base64url', 'abc+/='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['an object', Buffer.from('{"created_at":"2025-03-01T10:00:00.000Z","id":"x"}').toString('base64url')],
    ['a bad time', Buffer.from('["yesterday","x"]').toString('base64url')],
    ['an empty id', Buffer.from('["2025-03-01T10:00:00.000Z",""]').toString('base64url')],
    ['an id that is not a string', Buffer.from('["2025-03-01T10:00:00.000Z",7]').toString('base64url')],
    ['an empty cursor', ''],
  ])('refuses %s with invalid_cursor', (_name, cursor) => {
    expect(refusal({ cursor })).toEqual({ code: 'invalid_cursor', paths: ['cursor'] });
  });
});
