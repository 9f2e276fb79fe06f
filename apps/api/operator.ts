import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { GatewayError } from '../../libs/errors/index.ts';
import { replayWebhook } from '../../libs/webhooks/queue.ts';
import { isIssuedJobId } from '../../libs/jobs/jobId.ts';
import type { AuditEntry, AuditSink } from '../../libs/audit/auditLog.ts';
import { LoginMemory } from '../../libs/audit/logins.ts';
import { dashboardRouter } from './dashboard/router.ts';
import type { DashboardSources } from './dashboard/summary.ts';

/** What the operator endpoints need. */
export interface OperatorDeps {
  /** GATEWAY_ADMIN_TOKEN; undefined turns every /admin route off (404). */
  adminToken: string | undefined;
  /** The queues Bull Board shows; the one named `webhooks` also serves replays. */
  queues: Queue[];
  /** Attempts a replayed delivery gets. Default that of libs/webhooks (8). */
  webhookAttempts?: number;
  /** Records logins, Bull Board actions and replays (libs/audit); without it none are recorded. */
  audit?: AuditSink;
  /** What the dashboard at /admin reads (apps/api/dashboard); without it there is no dashboard. */
  dashboard?: DashboardSources;
}

// Bull Board's read-only calls are GETs; anything else changes a queue or a job.
const CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Accepts `Authorization: Bearer <token>` (scripts) or Basic with any user and the token as password (browsers, Bull Board). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':');
  return undefined;
}

/** The /admin router: Bull Board at /admin/queues and webhook replay, behind the admin token. */
export function operatorRouter(deps: OperatorDeps): express.Router {
  const router = express.Router();
  const { adminToken } = deps;
  const logins = new LoginMemory();
  const audit = (req: Request, res: Response, entry: Omit<AuditEntry, 'ts' | 'ip' | 'request_id'>) =>
    deps.audit?.record({ ...entry, ip: req.ip ?? null, request_id: (res.locals.requestId as string | undefined) ?? null });
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!adminToken) return next(new GatewayError('route_not_found', 'Operator endpoints are off: set GATEWAY_ADMIN_TOKEN to enable them.', { status: 404 }));
    const token = presentedToken(req.headers.authorization);
    // Compare digests: constant time whatever the presented length.
    if (token !== undefined && timingSafeEqual(digest(token), digest(adminToken))) {
      if (logins.shouldRecord(req.ip ?? '', Date.now())) audit(req, res, { actor: 'admin', action: 'admin_login', target: '/admin', outcome: 'success', details: { path: req.originalUrl.split('?')[0] } });
      return next();
    }
    // No credentials is a browser's first request before it asks for them, not a failed login.
    if (token !== undefined) audit(req, res, { actor: 'anonymous', action: 'admin_login', target: '/admin', outcome: 'failure', details: { reason: 'wrong_token', path: req.originalUrl.split('?')[0] } });
    res.set('www-authenticate', 'Basic realm="llm-gateway operators"');
    next(new GatewayError('unauthorized', 'Operator endpoints need the admin token (GATEWAY_ADMIN_TOKEN) as a Bearer token or Basic password.', { status: 401 }));
  });

  // The dashboard: GETs only, so every operator role may see it.
  if (deps.dashboard) router.use(dashboardRouter(deps.dashboard));

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: deps.queues.map((q) => new BullMQAdapter(q)), serverAdapter: board });
  const boardApp = board.getRouter() as express.Express;
  // Bull Board serves from an Express app of its own, which would announce itself in X-Powered-By.
  boardApp.disable('x-powered-by');
  router.use('/queues', (req, res, next) => {
    if (CHANGING_METHODS.has(req.method)) {
      res.on('finish', () => {
        const ok = res.statusCode < 400;
        audit(req, res, { actor: 'admin', action: 'bull_board_action', target: req.path, outcome: ok ? 'success' : 'failure', details: { method: req.method, status: res.statusCode } });
      });
    }
    next();
  }, boardApp);

  const webhooks = deps.queues.find((q) => q.name === 'webhooks');
  router.post('/webhooks/:jobId/replay', async (req, res, next) => {
    try {
      const jobId = String(req.params.jobId);
      // Only an issued job id: anything else could name a BullMQ key (`…:lock`) instead of a delivery.
      if (!webhooks || !isIssuedJobId(jobId)) throw new GatewayError('webhook_not_found', 'No webhook delivery is kept for this job.', { status: 404 });
      const webhookId = await replayWebhook(webhooks, jobId, deps.webhookAttempts ? { attempts: deps.webhookAttempts } : {});
      audit(req, res, { actor: 'admin', action: 'webhook_replay', target: jobId, outcome: 'success', details: { webhook_id: webhookId } });
      res.status(202).json({ webhook_id: webhookId, status: 'queued' });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      audit(req, res, { actor: 'admin', action: 'webhook_replay', target: String(req.params.jobId).slice(0, 200), outcome: 'failure', details: { code: typeof code === 'string' ? code : 'internal_error' } });
      next(e);
    }
  });
  return router;
}
