/**
 * Request ids and the API's per-request log line. Every answer carries `X-Request-Id` (the
 * client's when sane, else a new UUID); pino-http writes one line per request with its method,
 * route pattern, status, duration, request id and client id — never bodies or headers, so no
 * credential can reach the log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { stdSerializers, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
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
 * pino-http middleware logging one line per request at `info` (`error` for 5xx) through `log`,
 * bound to `requestId` so any line written with req.log carries it. Install after assignRequestId.
 */
export function requestLogging(log: Logger): RequestHandler {
  const fields = (req: IncomingMessage, res: ServerResponse, durationMs: number) => {
    const response = res as Response;
    const route = routeOf(req as Request);
    const id = route.startsWith('/v1/jobs') ? jobIdOf(req as Request, res) : undefined;
    return {
      method: req.method,
      route,
      status: res.statusCode,
      durationMs,
      clientId: (response.locals?.clientId as string | undefined) ?? null,
      ...(id ? { jobId: id } : {}),
    };
  };
  return pinoHttp({
    logger: log.child({ component: 'http' }),
    genReqId: (_req, res) => ((res as Response).locals?.requestId as string | undefined) ?? requestIdFrom(undefined),
    customAttributeKeys: { reqId: 'requestId' },
    // Bind only the request id: the request object (headers, Authorization) never enters a line.
    quietReqLogger: true,
    quietResLogger: true,
    // pino-http still binds `req` to a logger it does not use here: serialized to nothing, so no
    // header (Authorization included) is ever copied into a binding.
    wrapSerializers: false,
    serializers: { req: () => undefined, res: () => undefined, err: stdSerializers.err },
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]!) },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessObject: (req, res, value) => fields(req, res, value.responseTime as number),
    customErrorObject: (req, res, _err, value) => fields(req, res, value.responseTime as number),
    customSuccessMessage: (req, res) => `${req.method} ${routeOf(req as Request)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${routeOf(req as Request)} ${res.statusCode}`,
  }) as unknown as RequestHandler;
}
