import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../../libs/errors/index.ts';
import { toGatewayError } from './errorMapping.ts';

/** An error shaped like http-errors makes them (body-parser wraps everything it throws so). */
const httpError = (status: number, fields: Record<string, unknown>) => Object.assign(new Error('library error'), { status, statusCode: status, expose: status < 500, ...fields });

function zlibError(): unknown {
  try {
    gunzipSync(Buffer.from('{"not": "gzip"}'));
  } catch (e) {
    return Object.assign(e as Error, { status: 400 });
  }
  throw new Error('gunzip accepted plain text');
}

describe('toGatewayError', () => {
  test.each([
    ['a JSON syntax error', httpError(400, { type: 'entity.parse.failed' }), 400, 'invalid_json'],
    ['a body over the limit', httpError(413, { type: 'entity.too.large' }), 413, 'payload_too_large'],
    ['an unknown content encoding', httpError(415, { type: 'encoding.unsupported' }), 415, 'unsupported_content_encoding'],
    ['an unknown charset', httpError(415, { type: 'charset.unsupported' }), 415, 'unsupported_media_type'],
    ['an aborted upload', httpError(400, { type: 'request.aborted', code: 'ECONNABORTED' }), 400, 'request_aborted'],
    ['a wrong Content-Length', httpError(400, { type: 'request.size.invalid' }), 400, 'invalid_content_length'],
    ['a body that is not gzip', zlibError(), 400, 'invalid_body_encoding'],
    ['a corrupt brotli body', httpError(400, { code: 'ERR__ERROR_FORMAT_PADDING_2' }), 400, 'invalid_body_encoding'],
    ['a corrupt zstd body', httpError(400, { code: 'ZSTD_error_prefix_unknown' }), 400, 'invalid_body_encoding'],
    ['bad percent-encoding in a path parameter', Object.assign(new URIError("Failed to decode param '%ff'"), { status: 400 }), 400, 'invalid_path'],
    ['another client error from a library', httpError(403, { type: 'entity.verify.failed' }), 403, 'bad_request'],
    ['an unknown type with a 4xx status', httpError(400, { type: 'constructor' }), 400, 'bad_request'],
    ['a library error of ours', httpError(500, { type: 'stream.not.readable' }), 500, 'internal_error'],
    ['a plain error', new Error('boom'), 500, 'internal_error'],
    ['a thrown string', 'boom', 500, 'internal_error'],
    ['null', null, 500, 'internal_error'],
    ['a status that is not a number', Object.assign(new Error('x'), { status: '400' }), 500, 'internal_error'],
    ['a Redis command that timed out', new Error('Command timed out'), 503, 'redis_unavailable'],
    ['a Redis command while disconnected', new Error("Stream isn't writeable and enableOfflineQueue options is false"), 503, 'redis_unavailable'],
    ['a closed Redis connection', new Error('Connection is closed.'), 503, 'redis_unavailable'],
    ['a flushed Redis command', Object.assign(new Error('Reached the max retries per request limit (which is 0).'), { name: 'MaxRetriesPerRequestError' }), 503, 'redis_unavailable'],
  ])('maps %s', (_name, err, status, code) => {
    const e = toGatewayError(err);
    expect(e.status).toBe(status);
    expect(e.code).toBe(code);
    expect(e.message.length).toBeGreaterThan(10);
  });

  test('redis_unavailable tells the client when to retry', () => {
    expect(toGatewayError(new Error('Command timed out')).retryAfterSeconds).toBeGreaterThan(0);
  });

  test('a GatewayError passes through unchanged', () => {
    const original = new GatewayError('job_not_found', 'No job.', { status: 404 });
    expect(toGatewayError(original)).toBe(original);
  });
});
