/**
 * The one middleware in front of everything under /admin: decides the caller's role from its token
 * (libs/operator/roles.ts), sets `res.locals.role`, records logins in the audit log, and refuses
 * whatever the role may not do. Routes mounted after it read `res.locals.role` and need no check of
 * their own to stay read-only for viewers.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GatewayError } from '../../libs/errors/index.ts';
import type { AuditAction, AuditEntry, AuditSink } from '../../libs/audit/auditLog.ts';
import { LoginMemory } from '../../libs/audit/logins.ts';
import { decideRole, permits, type OperatorRole, type OperatorTokens } from '../../libs/operator/roles.ts';

/** What the operator middleware needs. */
export interface OperatorAuthOptions {
  tokens: OperatorTokens;
  /** Records logins and refused requests; without it none are recorded. @defaultValue undefined */
  audit?: AuditSink | undefined;
}

/** An audit entry of an /admin request, stamped with its address and request id. */
export type OperatorAudit = (req: Request, res: Response, entry: Omit<AuditEntry, 'ts' | 'ip' | 'request_id'>) => void;

/** Builds the audit helper the /admin routes share. */
export function operatorAudit(sink: AuditSink | undefined): OperatorAudit {
  return (req, res, entry) => sink?.record({ ...entry, ip: req.ip ?? null, request_id: (res.locals.requestId as string | undefined) ?? null });
}

/** The role `operatorAuth` granted this request. */
export function roleOf(res: Response): OperatorRole {
  const role = res.locals.role as OperatorRole | undefined;
  // Only reachable if a route were mounted before the middleware: fail as the least powerful role.
  return role ?? 'viewer';
}

/** The audit action a request under /admin would be: webhook replays are theirs, everything else Bull Board's. */
function actionOf(path: string): AuditAction {
  if (path === '/config') return 'config_publish';
  return path.startsWith('/webhooks/') ? 'webhook_replay' : 'bull_board_action';
}

/** The /admin authentication and authorization middleware. */
export function operatorAuth(options: OperatorAuthOptions): RequestHandler {
  const audit = operatorAudit(options.audit);
  const logins = new LoginMemory();
  return (req: Request, res: Response, next: NextFunction) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    const decision = decideRole(req.headers.authorization, options.tokens);
    if (decision.kind === 'off') return next(new GatewayError('route_not_found', 'Operator endpoints are off: set GATEWAY_ADMIN_TOKEN (or GATEWAY_VIEWER_TOKEN) to enable them.', { status: 404 }));
    if (decision.kind !== 'role') {
      // No credentials is a browser's first request before it asks for them, not a failed login.
      if (decision.kind === 'wrong_token') audit(req, res, { actor: 'anonymous', action: 'admin_login', target: '/admin', outcome: 'failure', details: { reason: 'wrong_token', path } });
      res.set('www-authenticate', 'Basic realm="llm-gateway operators"');
      return next(new GatewayError('unauthorized', 'Operator endpoints need the admin token (GATEWAY_ADMIN_TOKEN) or the viewer token (GATEWAY_VIEWER_TOKEN) as a Bearer token or Basic password.', { status: 401 }));
    }
    const { role } = decision;
    res.locals.role = role;
    // Per role and address: an admin and a viewer on one machine are two sessions.
    if (logins.shouldRecord(`${role} ${req.ip ?? ''}`, Date.now())) audit(req, res, { actor: role, action: 'admin_login', target: '/admin', outcome: 'success', details: { path } });
    const permission = permits(role, req.method);
    if (!permission.allowed) {
      const target = req.path.startsWith('/queues') ? req.path.slice('/queues'.length) : req.path;
      audit(req, res, { actor: role, action: actionOf(req.path), target, outcome: 'failure', details: { method: req.method, status: 403, code: permission.code } });
      return next(new GatewayError(permission.code, 'The viewer token is read-only: this request would change a queue, a job or a delivery. Use the admin token.', { status: 403 }));
    }
    next();
  };
}
