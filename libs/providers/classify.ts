/**
 * The one place that decides what a provider error means. Every policy (retry, breaker, failover,
 * queue retry) consumes this classification instead of inspecting errors itself.
 */

export interface ErrorClass {
  /** Worth another try (now or later); false means the request itself is wrong. */
  retryable: boolean;
  /** Stable code recorded on the job, e.g. `provider_rate_limited`. */
  code: string;
  /** HTTP status, or 0 when no answer came (connection error, timeout). */
  status: number;
  /** Milliseconds the provider asked us to wait (`retry-after` / `retry-after-ms`), if it did. */
  retryAfterMs: number | undefined;
}

const RETRYABLE_STATUS: Record<number, string> = {
  408: 'provider_timeout',
  409: 'provider_conflict',
  429: 'provider_rate_limited',
  529: 'provider_overloaded',
};
const FATAL_STATUS: Record<number, string> = {
  400: 'provider_bad_request',
  401: 'provider_unauthorized',
  403: 'provider_forbidden',
  404: 'provider_model_not_found',
  413: 'provider_request_too_large',
  422: 'provider_unprocessable',
};

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(headers: unknown, now = Date.now()): number | undefined {
  const get = (name: string): string | null | undefined => {
    if (!headers) return undefined;
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
    return (headers as Record<string, string | undefined>)[name];
  };
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && get('retry-after-ms') != null) return ms;
  const raw = get('retry-after');
  if (raw == null || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classifies any error thrown by a provider adapter (SDK errors are duck-typed by name/status). */
export function classifyProviderError(error: unknown): ErrorClass {
  const e = (error ?? {}) as { name?: string; status?: unknown; headers?: unknown; code?: string };
  // The SDKs' error classes leave `name` as 'Error'; their class name is what tells them apart.
  const name = e.name && e.name !== 'Error' ? e.name : ((error as object | null)?.constructor?.name ?? '');
  if (name === 'APIConnectionTimeoutError' || name === 'TimeoutError' || name === 'TaskCancelledError') {
    return { retryable: true, code: 'provider_timeout', status: 0, retryAfterMs: undefined };
  }
  if (name === 'APIConnectionError' || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '')) {
    return { retryable: true, code: 'provider_connection_error', status: 0, retryAfterMs: undefined };
  }
  if (name === 'IncompleteAnswerError' || error instanceof SyntaxError) {
    return { retryable: true, code: 'provider_malformed_response', status: 200, retryAfterMs: undefined };
  }
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined) return { retryable: true, code: 'provider_error', status: 0, retryAfterMs: undefined };
  const retryAfterMs = parseRetryAfter(e.headers);
  if (RETRYABLE_STATUS[status]) return { retryable: true, code: RETRYABLE_STATUS[status], status, retryAfterMs };
  if (status >= 500) return { retryable: true, code: 'provider_unavailable', status, retryAfterMs };
  return { retryable: false, code: FATAL_STATUS[status] ?? 'provider_rejected', status, retryAfterMs: undefined };
}
