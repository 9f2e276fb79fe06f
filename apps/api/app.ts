import express, { type NextFunction, type Request, type Response } from 'express';
import { GatewayError, errorBody } from '../../libs/errors/index.ts';
import type { ApiKeyRegistry } from '../../libs/auth/apiKeys.ts';
import type { BudgetStore } from '../../libs/budget/budgetStore.ts';
import type { ApiMetrics } from '../../libs/telemetry/metrics/api.ts';
import { getBudget } from './budgetHandler.ts';
import { getExperimentReport, postFeedback } from './experimentHandlers.ts';
import { inProcessReports } from '../../libs/experiments/reportRequest.ts';
import { operatorRouter, type OperatorDeps } from './operator.ts';
import { adminSecurityHeaders, apiSecurityHeaders } from './securityHeaders.ts';
import { cancelJob, getJob, submitJob, type ApiDeps, type HandlerResult } from './handlers.ts';
import { searchJobs } from './searchHandler.ts';
import { BODY_LIMIT, toGatewayError } from './errorMapping.ts';
import { checkReadiness, type Readiness } from './health.ts';
import type { ConfigVersion } from '../../libs/config/sync/version.ts';
import { readyConfigView } from '../../libs/config/sync/process.ts';
import type { Logger } from 'pino';
import { assignRequestId, requestIdOf, requestLogging } from './requestLog.ts';

export { BODY_LIMIT };

export interface AppDeps extends ApiDeps {
  apiKeys: ApiKeyRegistry;
  budget: BudgetStore;
  /** Operator endpoints (/admin); omitted in tests that do not need them. */
  operator?: OperatorDeps;
  /** Prometheus metrics served at /metrics; omitted in tests that do not need them. */
  metrics?: ApiMetrics;
  /** Writes one line per request (requestLogging); omitted in tests that do not need it. */
  log?: Logger;
  /** Whether Redis and the store can be used: true/false, or per dependency (see checkReadiness); asked with a 1 s deadline. */
  ready: () => Promise<boolean | Readiness>;
  /** The version of the config this process runs, shown in /readyz as `config: {version, hash}`; omitted in tests that do not need it. */
  configVersion?: () => ConfigVersion;
}

type Handler = (req: Request, clientId: string) => Promise<HandlerResult>;

/** The one place where Express meets the handlers: HTTP in, HandlerResult out. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(assignRequestId());
  if (deps.log) app.use(requestLogging(deps.log));
  app.use(apiSecurityHeaders());

  const { metrics } = deps;
  if (metrics) {
    app.use((req, res, next) => {
      const started = performance.now();
      // Label by the matched route pattern, not the URL, so job ids do not explode the series.
      res.on('finish', () =>
        metrics.http.observe(
          { method: req.method, route: (req.route?.path as string | undefined) ? `${req.baseUrl}${req.route.path}` : 'unmatched', status: res.statusCode },
          (performance.now() - started) / 1000,
        ),
      );
      next();
    });
    app.get('/metrics', async (_req, res, next) => {
      try {
        res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
      } catch (e) {
        next(e);
      }
    });
  }

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const answer = await readiness(deps);
    const config = deps.configVersion ? { config: readyConfigView(deps.configVersion()) } : {};
    res.status(answer.ready ? 200 : 503).json({ status: answer.ready ? 'ready' : 'not_ready', checks: answer.checks, ...config });
  });

  const route = (handler: Handler) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const result = await handler(req, res.locals.clientId as string);
      if (result.headers) res.set(result.headers);
      res.status(result.status).json(result.body);
    } catch (e) {
      next(e);
    }
  };
  const requireJson = (req: Request, _res: Response, next: NextFunction) => {
    if (!req.is('application/json')) {
      next(new GatewayError('unsupported_media_type', 'Send the body as JSON with `Content-Type: application/json`.', { status: 415 }));
    } else next();
  };

  const v1 = express.Router();
  v1.use(authenticate(deps));
  v1.post('/jobs', requireJson, express.json({ limit: BODY_LIMIT }), route((req, clientId) => submitJob(deps, clientId, req.body, req.get('idempotency-key'), requestIdOf(req.res!))));
  // Submissions have their budget (`rpm`, in submitJob); every other /v1 request, matched or not, spends `read_rpm`.
  v1.use(limitReads(deps));
  v1.get('/jobs', route((req, clientId) => searchJobs(deps, clientId, req.query)));
  v1.get('/jobs/:id', route((req, clientId) => getJob(deps, clientId, String(req.params.id))));
  v1.delete('/jobs/:id', route((req, clientId) => cancelJob(deps, clientId, String(req.params.id))));
  v1.post('/jobs/:id/feedback', requireJson, express.json({ limit: BODY_LIMIT }), route((req, clientId) => postFeedback(deps, clientId, String(req.params.id), req.body)));
  v1.get('/budget', route(() => getBudget(deps.budget, deps.config)));
  const reportDeps = { config: deps.config, ...(deps.now ? { now: deps.now } : {}), reports: deps.reports ?? inProcessReports(deps.store) };
  v1.get('/experiments/:id/report', route((req, clientId) => getExperimentReport(reportDeps, clientId, String(req.params.id), { since: req.query.since })));
  app.use('/v1', v1);
  if (deps.operator) app.use('/admin', adminSecurityHeaders(), operatorRouter(deps.operator));

  app.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new GatewayError('route_not_found', 'No such route; see the API section of the README.', { status: 404 }));
  });
  app.use(errorHandler(deps.log));
  return app;
}

/** /readyz's answer within a second, whatever deps.ready() does: a stalled dependency must not stall the probe. */
async function readiness(deps: AppDeps): Promise<Readiness> {
  let answer: boolean | Readiness = false;
  const outer = await checkReadiness({ dependencies: async () => ((answer = await deps.ready()), true) }, 950);
  if (!outer.ready) return outer;
  return typeof answer === 'boolean' ? { ready: answer, checks: {} } : answer;
}

// Authenticate before reading the body, so an unauthenticated client cannot make us parse 64 KiB.
function authenticate(deps: AppDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      res.locals.clientId = deps.apiKeys.authenticate(req.headers.authorization);
      next();
    } catch (e) {
      next(e);
    }
  };
}

// One Redis round trip per read; over the limit it answers 429 `rate_limited` with Retry-After.
function limitReads(deps: AppDeps) {
  return (_req: Request, res: Response, next: NextFunction) => {
    deps.guards.readRateLimit(res.locals.clientId as string).then(() => next(), next);
  };
}

/** Maps every error to the documented `{error: {code, message, details}}` body; logs our own failures (5xx). */
const errorHandler = (log: Logger | undefined) => (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
  const e = toGatewayError(err);
  // Client faults (aborted uploads included) are not ours to log as errors.
  if (e.status >= 500) {
    const line = { code: e.code, requestId: res.locals.requestId as string | undefined, err: err instanceof Error ? { name: err.name, message: err.message } : String(err) };
    if (log) log.error(line, 'request failed');
    else console.error(JSON.stringify({ level: 'error', msg: 'request failed', ...line }));
  }
  // Part of an answer is already out (a streamed page): it cannot become an error body any more.
  if (res.headersSent) return void res.destroy();
  if (e.retryAfterSeconds !== undefined) res.set('retry-after', String(e.retryAfterSeconds));
  res.status(e.status).json(errorBody(e));
};
