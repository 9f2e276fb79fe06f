/**
 * Typed errors with a stable `code`. Every error the gateway shows a client or an operator is a
 * GatewayError, so one place (the API's error mapper) turns them into HTTP answers.
 */
const brand = Symbol.for('llm-gateway.GatewayError');

/** Details that help a caller fix the request: one entry per problem. */
export interface ErrorDetail {
  path?: string;
  message: string;
}

export class GatewayError extends Error {
  readonly [brand] = true;
  /** A stable machine-readable code, e.g. `invalid_body`. */
  readonly code: string;
  /** The HTTP status the API answers with. */
  readonly status: number;
  readonly details: ErrorDetail[];
  /** Seconds a client should wait before trying again (429/503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** True for any GatewayError, even one created by another copy of this module. */
export function isGatewayError(e: unknown): e is GatewayError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

/** The JSON body every error answer carries. */
export function errorBody(e: GatewayError): { error: { code: string; message: string; details: ErrorDetail[] } } {
  return { error: { code: e.code, message: e.message, details: e.details } };
}
