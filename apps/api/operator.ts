import express from 'express';
import type { Queue } from 'bullmq';
import { GatewayError } from '../../libs/errors/index.ts';
import { replayWebhook } from '../../libs/webhooks/queue.ts';
import { isIssuedJobId } from '../../libs/jobs/jobId.ts';
import type { AuditSink } from '../../libs/audit/auditLog.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import { isChangingMethod } from '../../libs/operator/roles.ts';
import { bullBoards } from './bullBoards.ts';
import { operatorAudit, operatorAuth, roleOf } from './operatorAuth.ts';
import { dashboardRouter } from './dashboard/router.ts';
import type { DashboardSources } from './dashboard/summary.ts';
import type { ConfigFiles } from '../../libs/config/load.ts';
import type { ConfigSync } from '../../libs/config/sync/configSync.ts';
import type { ConfigVersion } from '../../libs/config/sync/version.ts';
import { CONFIG_UPDATE_LIMIT_BYTES, mergeConfigUpdate } from '../../libs/config/sync/operatorUpdate.ts';

/** What the operator endpoints need. */
export interface OperatorDeps {
  /** GATEWAY_ADMIN_TOKEN: everything under /admin. With neither token, every /admin route is off (404). */
  adminToken: string | undefined;
  /** GATEWAY_VIEWER_TOKEN: read-only (GETs only, personal fields redacted). @defaultValue undefined (no viewer role) */
  viewerToken?: string | undefined;
  /**
   * The current config, whose features' `privacy` says which job fields a viewer sees redacted.
   * @defaultValue undefined: viewers see no job's input, metadata or answer
   */
  config?: () => GatewayConfig;
  /** The queues Bull Board shows; the one named `webhooks` also serves replays. */
  queues: Queue[];
  /** Attempts a replayed delivery gets. Default that of libs/webhooks (8). */
  webhookAttempts?: number;
  /** Records logins, Bull Board actions and replays (libs/audit); without it none are recorded. */
  audit?: AuditSink;
  /** What the dashboard at /admin reads (apps/api/dashboard); without it there is no dashboard. */
  dashboard?: DashboardSources;
  /** Config sync: `GET /admin/config` shows the running config, `PUT /admin/config` (admin) publishes a change; without it neither route exists. */
  configSync?: { sync: Pick<ConfigSync, 'publish'>; files: () => ConfigFiles; version: () => ConfigVersion };
}

/**
 * The /admin router: Bull Board at /admin/queues and webhook replay, behind the operator tokens.
 * The admin may do everything; a viewer gets the read-only board and a 403 for any change.
 */
export function operatorRouter(deps: OperatorDeps): express.Router {
  const router = express.Router();
  const audit = operatorAudit(deps.audit);
  // First: every route below sees res.locals.role, and a viewer's changes never reach them.
  router.use(operatorAuth({ tokens: { admin: deps.adminToken, viewer: deps.viewerToken }, audit: deps.audit }));

  // The dashboard: GETs only, so every operator role may see it.
  if (deps.dashboard) router.use(dashboardRouter(deps.dashboard));

  const boards = bullBoards({ queues: deps.queues, features: () => deps.config?.().features ?? {} });
  router.use('/queues', (req, res, next) => {
    if (isChangingMethod(req.method)) {
      res.on('finish', () => {
        const ok = res.statusCode < 400;
        audit(req, res, { actor: roleOf(res), action: 'bull_board_action', target: req.path, outcome: ok ? 'success' : 'failure', details: { method: req.method, status: res.statusCode } });
      });
    }
    boards[roleOf(res)](req, res, next);
  });

  if (deps.configSync) configRoutes(router, deps.configSync, audit);

  const webhooks = deps.queues.find((q) => q.name === 'webhooks');
  router.post('/webhooks/:jobId/replay', async (req, res, next) => {
    try {
      const jobId = String(req.params.jobId);
      // Only an issued job id: anything else could name a BullMQ key (`…:lock`) instead of a delivery.
      if (!webhooks || !isIssuedJobId(jobId)) throw new GatewayError('webhook_not_found', 'No webhook delivery is kept for this job.', { status: 404 });
      const webhookId = await replayWebhook(webhooks, jobId, deps.webhookAttempts ? { attempts: deps.webhookAttempts } : {});
      audit(req, res, { actor: roleOf(res), action: 'webhook_replay', target: jobId, outcome: 'success', details: { webhook_id: webhookId } });
      res.status(202).json({ webhook_id: webhookId, status: 'queued' });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      audit(req, res, { actor: roleOf(res), action: 'webhook_replay', target: String(req.params.jobId).slice(0, 200), outcome: 'failure', details: { code: typeof code === 'string' ? code : 'internal_error' } });
      next(e);
    }
  });
  return router;
}

/** GET and PUT /admin/config: what this process runs, and an admin's change published to every process. */
function configRoutes(router: express.Router, cs: NonNullable<OperatorDeps['configSync']>, audit: ReturnType<typeof operatorAudit>): void {
  router.get('/config', (_req, res) => {
    const v = cs.version();
    res.json({ version: v.number, hash: v.hash, files: cs.files() });
  });
  // Viewers never get here: operatorAuth answers their PUT with 403.
  router.put('/config', express.json({ limit: CONFIG_UPDATE_LIMIT_BYTES }), async (req, res, next) => {
    const body: unknown = req.body;
    const names = Object.keys((body as { files?: object } | null)?.files ?? {}).slice(0, 50);
    try {
      const version = await cs.sync.publish(mergeConfigUpdate(cs.files(), body), 'operator');
      audit(req, res, { actor: roleOf(res), action: 'config_publish', target: '/admin/config', outcome: 'success', details: { version: version.number, hash: version.hash, files: names } });
      res.json({ version: version.number, hash: version.hash });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      audit(req, res, { actor: roleOf(res), action: 'config_publish', target: '/admin/config', outcome: 'failure', details: { files: names, code: typeof code === 'string' ? code : 'internal_error' } });
      next(e);
    }
  });
}
