/** The request id a job carries from the client's X-Request-Id through logs, telemetry and the webhook. */
import { randomUUID } from 'node:crypto';

/** Longest X-Request-Id accepted, in characters; longer ones are replaced. */
export const MAX_REQUEST_ID_LENGTH = 128;

// Letters, digits and a few separators used by common id schemes (Rails, AWS, W3C trace ids):
// nothing that could forge a log line, a header or HTML when an operator views it.
const SANE = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]*$/;

/** True when `value` may be kept as a request id: 1-128 characters of [A-Za-z0-9._:@/+=-], starting alphanumeric. */
export function isSaneRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_REQUEST_ID_LENGTH && SANE.test(value);
}

/**
 * The request id for a request that sent `header` (X-Request-Id; an array when sent twice): the
 * header itself when sane, else a new UUID, so hostile input is never reflected.
 */
export function requestIdFrom(header: string | string[] | undefined, generate: () => string = randomUUID): string {
  const value = Array.isArray(header) ? header[0] : header;
  return isSaneRequestId(value) ? value : generate();
}
