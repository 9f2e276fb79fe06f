/**
 * Who an operator request comes from and what that role may do: pure decisions, carried out by the
 * API's /admin middleware. Two tokens, two roles: the admin token may do everything, the viewer
 * token may only read (every GET and HEAD under /admin; anything else is refused with 403).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** An operator's role: `admin` (GATEWAY_ADMIN_TOKEN) or `viewer` (GATEWAY_VIEWER_TOKEN, read-only). */
export type OperatorRole = 'admin' | 'viewer';

/** The stable error code a viewer's mutating request is refused with (HTTP 403). */
export const FORBIDDEN_FOR_VIEWER = 'forbidden_for_viewer';

/** The operator tokens; either may be absent. */
export interface OperatorTokens {
  /** GATEWAY_ADMIN_TOKEN. @defaultValue undefined */
  admin: string | undefined;
  /** GATEWAY_VIEWER_TOKEN. @defaultValue undefined */
  viewer: string | undefined;
}

/** What one request's credentials amount to. */
export type RoleDecision =
  /** No operator token is configured: /admin does not exist (404). */
  | { kind: 'off' }
  /** No usable credentials: a browser's first request before it asks for them (401, not audited). */
  | { kind: 'anonymous' }
  /** Credentials that match no token (401, audited as a failed login). */
  | { kind: 'wrong_token' }
  | { kind: 'role'; role: OperatorRole };

/** What a role may do with one request. */
export type Permission = { allowed: true } | { allowed: false; code: typeof FORBIDDEN_FOR_VIEWER };

// Only these leave queues, jobs and deliveries as they were; everything else may change them.
const READ_METHODS = new Set(['GET', 'HEAD']);
const CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const digest = (s: string) => createHash('sha256').update(s).digest();

// Digests of equal length: constant time whatever the presented length.
const same = (presented: string, expected: string) => timingSafeEqual(digest(presented), digest(expected));

/** Accepts `Authorization: Bearer <token>` (scripts) or Basic with any user and the token as password (browsers, Bull Board). */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':');
  return undefined;
}

/** The role an `Authorization` header grants, given the configured tokens. */
export function decideRole(authorization: string | undefined, tokens: OperatorTokens): RoleDecision {
  if (!tokens.admin && !tokens.viewer) return { kind: 'off' };
  const token = presentedToken(authorization);
  if (token === undefined) return { kind: 'anonymous' };
  // Both compared every time, so the timing does not tell which token a guess came close to.
  const admin = tokens.admin !== undefined && same(token, tokens.admin);
  const viewer = tokens.viewer !== undefined && same(token, tokens.viewer);
  if (admin) return { kind: 'role', role: 'admin' };
  if (viewer) return { kind: 'role', role: 'viewer' };
  return { kind: 'wrong_token' };
}

/** Whether `role` may send a request with this HTTP method anywhere under /admin. */
export function permits(role: OperatorRole, method: string): Permission {
  if (role === 'admin' || READ_METHODS.has(method.toUpperCase())) return { allowed: true };
  return { allowed: false, code: FORBIDDEN_FOR_VIEWER };
}

/** True for POST, PUT, PATCH and DELETE: the requests that change a queue, a job or a delivery, which the audit log records. */
export function isChangingMethod(method: string): boolean {
  return CHANGING_METHODS.has(method.toUpperCase());
}
