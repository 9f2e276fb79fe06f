/**
 * Every error a request can meet, as the GatewayError the client is shown. Express, its router and
 * body-parser (with raw-body and zlib below it) throw their own errors for what the client sent:
 * each of those is the client's fault and answers a 4xx with a stable code; only the rest is ours.
 */
import { GatewayError, isGatewayError } from '../../libs/errors/index.ts';
import { isRedisUnavailable, redisUnavailable } from '../../libs/redis/connection.ts';

/** Largest accepted request body. Default 64 KiB: a career profile is a few hundred bytes. */
export const BODY_LIMIT = '64kb';

/** The fields the errors of Express, body-parser, raw-body and zlib carry. */
interface LibraryError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  code?: unknown;
}

const clientError = (code: string, message: string, status = 400) => new GatewayError(code, message, { status });

/** body-parser's and raw-body's `type` values, as the answer each gets. */
const BY_TYPE: Record<string, () => GatewayError> = {
  'entity.parse.failed': () => clientError('invalid_json', 'The body is not valid JSON.'),
  'entity.too.large': () => clientError('payload_too_large', `The body is larger than ${BODY_LIMIT}.`, 413),
  'encoding.unsupported': () =>
    clientError('unsupported_content_encoding', 'Send the body uncompressed, or with Content-Encoding gzip, deflate, br or zstd.', 415),
  'charset.unsupported': () => clientError('unsupported_media_type', 'Send the body as UTF-8 JSON.', 415),
  'request.aborted': () => clientError('request_aborted', 'The client closed the connection before the body was complete.'),
  'request.size.invalid': () => clientError('invalid_content_length', 'The body is not as long as its Content-Length header says.'),
};

// zlib's error codes: Z_DATA_ERROR (gzip, deflate), ERR__ERROR_FORMAT_… (brotli), ZSTD_error_… (zstd).
const DECOMPRESSION_CODE = /^(Z_|ERR__|ZSTD_)/;

/**
 * The GatewayError for `err`: itself when it is one; a 4xx with a stable code for what the
 * client sent (bad JSON, body too large, bad content encoding or charset, corrupt compressed
 * body, aborted upload, bad percent-encoding in the path); 503 `redis_unavailable` (Retry-After)
 * when Redis did not answer in time or could not be reached; 500 `internal_error` for the rest.
 */
export function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  if (isRedisUnavailable(err)) return redisUnavailable(err);
  // The router decodes path parameters with decodeURIComponent: "%" or "%ff" throw URIError.
  if (err instanceof URIError) return clientError('invalid_path', 'The path holds invalid percent-encoding.');
  const e: LibraryError = typeof err === 'object' && err !== null ? (err as LibraryError) : {};
  const byType = typeof e.type === 'string' && Object.hasOwn(BY_TYPE, e.type) ? BY_TYPE[e.type] : undefined;
  if (byType) return byType();
  if (typeof e.code === 'string' && DECOMPRESSION_CODE.test(e.code)) {
    return clientError('invalid_body_encoding', 'The body could not be decompressed as its Content-Encoding header says.');
  }
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  // Any other error a library marks as the client's (http-errors): still a 4xx, never a 500.
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    return clientError('bad_request', 'The request could not be read; check its headers and body.', status);
  }
  return new GatewayError('internal_error', 'Something went wrong on our side; try again, and tell the operators if it persists.', {
    status: 500,
    cause: err,
  });
}
