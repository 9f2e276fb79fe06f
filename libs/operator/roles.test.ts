import { describe, expect, test } from 'vitest';
import { decideRole, FORBIDDEN_FOR_VIEWER, isChangingMethod, permits, presentedToken, type OperatorTokens, type RoleDecision } from './roles.ts';

const ADMIN = 'admin-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const basic = (password: string, user = 'ops') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('presentedToken', () => {
  test.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['', undefined],
    [`Bearer ${ADMIN}`, ADMIN],
    [`bearer ${ADMIN}`, ADMIN],
    [basic(ADMIN), ADMIN],
    [basic('pa:ss'), 'pa:ss'],
    ['Digest abc', undefined],
  ])('%j gives %j', (header, token) => expect(presentedToken(header)).toBe(token));
});

describe('decideRole', () => {
  const both: OperatorTokens = { admin: ADMIN, viewer: VIEWER };
  test.each<[string, string | undefined, OperatorTokens, RoleDecision]>([
    ['no token configured', `Bearer ${ADMIN}`, { admin: undefined, viewer: undefined }, { kind: 'off' }],
    ['no credentials', undefined, both, { kind: 'anonymous' }],
    ['an unknown scheme', 'Digest x', both, { kind: 'anonymous' }],
    ['the admin token (Bearer)', `Bearer ${ADMIN}`, both, { kind: 'role', role: 'admin' }],
    ['the admin token (Basic)', basic(ADMIN), both, { kind: 'role', role: 'admin' }],
    ['the viewer token (Bearer)', `Bearer ${VIEWER}`, both, { kind: 'role', role: 'viewer' }],
    ['the viewer token (Basic)', basic(VIEWER, 'anyone'), both, { kind: 'role', role: 'viewer' }],
    ['a wrong token', 'Bearer nope', both, { kind: 'wrong_token' }],
    ['a prefix of the admin token', `Bearer ${ADMIN.slice(0, -1)}`, both, { kind: 'wrong_token' }],
    ['an empty Bearer token', 'Bearer ', both, { kind: 'wrong_token' }],
    ['the viewer token when only the admin one is set', `Bearer ${VIEWER}`, { admin: ADMIN, viewer: undefined }, { kind: 'wrong_token' }],
    ['the admin token when only the viewer one is set', `Bearer ${ADMIN}`, { admin: undefined, viewer: VIEWER }, { kind: 'wrong_token' }],
    ['the viewer token when only it is set', `Bearer ${VIEWER}`, { admin: undefined, viewer: VIEWER }, { kind: 'role', role: 'viewer' }],
  ])('%s', (_what, header, tokens, decision) => expect(decideRole(header, tokens)).toEqual(decision));
});

describe('permits', () => {
  test.each(['GET', 'HEAD', 'get'])('a viewer may %s', (method) => expect(permits('viewer', method)).toEqual({ allowed: true }));
  test.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'put'])('a viewer may not %s', (method) =>
    expect(permits('viewer', method)).toEqual({ allowed: false, code: FORBIDDEN_FOR_VIEWER }),
  );
  test.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('an admin may %s', (method) => expect(permits('admin', method)).toEqual({ allowed: true }));
});

test('isChangingMethod: what the audit log records', () => {
  expect(['POST', 'PUT', 'PATCH', 'DELETE', 'put'].map(isChangingMethod)).toEqual([true, true, true, true, true]);
  expect(['GET', 'HEAD', 'OPTIONS'].map(isChangingMethod)).toEqual([false, false, false]);
});
