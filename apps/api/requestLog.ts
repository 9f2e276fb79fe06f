/**
 * Request ids and the API's per-request log line. Every answer carries `X-Request-Id` (the
 * client's when sane, else a new UUID); requestLogging writes one line per request with its method,
 * route pattern, status, duration, request id and client id — never bodies or headers, so no
 * credential can reach the log.
 */
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { requestIdFrom } from '../../libs/telemetry/requestId.ts';

/** Response header (and request header read) that carries the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Paths probed every few seconds by orchestrators and Prometheus: not logged per request. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Sets res.locals.requestId and the X-Request-Id answer header; first in the chain, so even a 401 carries it. */
export function assignRequestId(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

/** The request id assignRequestId gave this request. */
export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}

/** The matched route pattern (`/v1/jobs/:id`), or `unmatched`: ids in URLs would make every line unique. */
export function routeOf(req: Request): string {
  const path = req.route?.path as string | undefined;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
}

const JOB_LOCATION = '/v1/jobs/';

/** The job a /v1/jobs request was about: the `:id` of its route, or the job a submission created (its Location). */
function jobIdOf(req: Request, res: ServerResponse): string | undefined {
  const param = (req.params as Record<string, string> | undefined)?.id;
  if (typeof param === 'string') return param.slice(0, 100);
  const location = res.getHeader('location');
  return typeof location === 'string' && location.startsWith(JOB_LOCATION) ? location.slice(JOB_LOCATION.length) : undefined;
}

/**
 * Middleware logging one line per request at `info` (`error` for 5xx) through `log`, with the
 * request id. Install after assignRequestId. Once per request and cheap: no child logger is made
 * per request (pino-http made two, even when its line was below the log level), and nothing is
 * built unless the line's level is enabled.
 */
export function requestLogging(log: Logger): RequestHandler {
  const http = log.child({ component: 'http' });
  return (req: Request, res: Response, next: NextFunction) => {
    if (QUIET_PATHS.has((req.url ?? '').split('?')[0]!)) return next();
    const started = performance.now();
    // 'close' alone when the client went away before the answer was complete.
    const done = () => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!http.isLevelEnabled(level)) return;
      const route = routeOf(req);
      const id = route.startsWith('/v1/jobs') ? jobIdOf(req, res) : undefined;
      const line = {
        requestId: res.locals?.requestId as string | undefined,
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(performance.now() - started),
        clientId: (res.locals?.clientId as string | undefined) ?? null,
        ...(id ? { jobId: id } : {}),
      };
      http[level](line, `${req.method} ${route} ${res.statusCode}`);
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
