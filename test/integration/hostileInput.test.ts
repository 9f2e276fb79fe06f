/**
 * Hostile requests, each once answered 500 (or worse, accepted and poisoning the store): every one
 * must answer a 4xx with a stable code, queue nothing and log no error.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi, type MockInstance } from 'vitest';
import type { Queue } from 'bullmq';
import type { LlmJobData } from '../../libs/queue/jobs.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';

const KEY = 'hostile-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}` };
const JSON_TYPE = { ...AUTH, 'content-type': 'application/json' };
let api: InProcessApi<'mallory'>;
let queue: Queue<LlmJobData>;
let port: number;
let errors: MockInstance;
/** Status codes the app set on responses whose connection was already gone (aborted uploads). */
const lateStatuses: number[] = [];

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: { error?: { code: string; message: string; details: unknown[] } } & Record<string, unknown>;
}

/** One request with a raw path, raw headers and a raw body, as a hostile client sends them. */
function send(method: string, path: string, headers: Record<string, string | string[]> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  send('POST', path, { ...JSON_TYPE, ...headers }, typeof body === 'string' ? body : JSON.stringify(body));

/** `{"a":{"a":…1…}}` with `levels` objects, as text (JSON.stringify itself overflows past a few thousand). */
const nestedText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

const queued = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);

function expectRefused(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body.error?.code }).toEqual({ status, code });
  expect(answer.body.error?.message.length).toBeGreaterThan(10);
  expect(Array.isArray(answer.body.error?.details)).toBe(true);
}

beforeAll(async () => {
  api = await startInProcessApi({ name: 'hostile', keys: { mallory: KEY } });
  ({ queue, port } = api);
  // Seen before the app: what status it sets on answers nobody reads any more.
  api.server.prependListener('request', (req, res) => {
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      if (req.destroyed) lateStatuses.push(res.statusCode);
      return end(...args);
    }) as typeof res.end;
  });
  // Real jobs, so that BullMQ's own keys (events, id, wait, delayed, …) exist to be addressed.
  expect((await post('/v1/jobs', careerSubmission(1))).status).toBe(202);
  await queue.add('llm', { ...(careerSubmission(2) as unknown as LlmJobData), clientId: 'mallory' }, { jobId: randomUUID(), delay: 60_000 });
});

afterAll(() => api?.stop());

let before: number | undefined;
beforeAll(() => void (errors = vi.spyOn(console, 'error')));
afterEach(async () => {
  // Nothing a test sends after its snapshot may reach the queue, nor be logged as an error.
  if (before !== undefined) expect(await queued()).toBe(before);
  before = undefined;
  expect(errors).not.toHaveBeenCalled();
});
const snapshot = async () => void (before = await queued());

describe('features are own keys of the config', () => {
  test.each(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])('{"feature": "%s"} answers 400 unknown_feature', async (feature) => {
    await snapshot();
    expectRefused(await post('/v1/jobs', { ...careerSubmission(3), feature }), 400, 'unknown_feature');
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('the report of experiment "%s" answers 404 experiment_not_found', async (id) => {
    expectRefused(await send('GET', `/v1/experiments/${id}/report`, AUTH), 404, 'experiment_not_found');
  });
});

describe('job ids the API never issues do not reach Redis', () => {
  const bullKeys = ['events', 'id', 'stalled-check', 'completed', 'wait', 'delayed', 'active', 'meta', 'prioritized', 'marker', 'failed', 'paused', 'limiter', 'pc'];
  test.each(bullKeys)('GET, DELETE and feedback of /v1/jobs/%s answer 404 job_not_found', async (name) => {
    await snapshot();
    expectRefused(await send('GET', `/v1/jobs/${name}`, AUTH), 404, 'job_not_found');
    expectRefused(await send('DELETE', `/v1/jobs/${name}`, AUTH), 404, 'job_not_found');
    expectRefused(await post(`/v1/jobs/${name}/feedback`, { rating: 5 }), 404, 'job_not_found');
  });

  test('a real job id with a BullMQ key suffix answers 404', async () => {
    const { body } = await post('/v1/jobs', careerSubmission(4));
    await snapshot();
    for (const suffix of [':lock', ':logs', ':dependencies', '%3Alock']) {
      expectRefused(await send('GET', `/v1/jobs/${String(body.id)}${suffix}`, AUTH), 404, 'job_not_found');
    }
  });
});

describe('bad percent-encoding in the path', () => {
  test.each(['/v1/jobs/%', '/v1/jobs/%ff%fe', '/v1/jobs/%E0%A4%A', '/v1/jobs/%/feedback', '/v1/experiments/%zz/report'])('%s answers 400 invalid_path', async (path) => {
    await snapshot();
    const method = path.endsWith('feedback') ? 'POST' : 'GET';
    expectRefused(await send(method, path, JSON_TYPE, method === 'POST' ? '{"rating":5}' : undefined), 400, 'invalid_path');
  });

  test('DELETE /v1/jobs/% answers 400 invalid_path', async () => {
    expectRefused(await send('DELETE', '/v1/jobs/%', AUTH), 400, 'invalid_path');
  });
});

describe('content encodings', () => {
  const body = JSON.stringify(careerSubmission(5));
  test.each([
    ['gzip with a body that is not gzip', 'gzip', Buffer.from(body), 400, 'invalid_body_encoding'],
    ['gzip cut short', 'gzip', gzipSync(body).subarray(0, 20), 400, 'invalid_body_encoding'],
    ['deflate with a body that is not deflate', 'deflate', Buffer.from(body), 400, 'invalid_body_encoding'],
    ['br with a body that is not brotli', 'br', Buffer.from(body), 400, 'invalid_body_encoding'],
    ['zstd with a body that is not zstd', 'zstd', Buffer.from(body), 400, 'invalid_body_encoding'],
    ['an unknown encoding', 'xz', Buffer.from(body), 415, 'unsupported_content_encoding'],
    ['two encodings in one header', 'gzip, gzip', gzipSync(gzipSync(body)), 415, 'unsupported_content_encoding'],
    ['a gzip bomb over the body limit', 'gzip', gzipSync(Buffer.alloc(10_000_000, 32)), 413, 'payload_too_large'],
  ])('%s answers %i %s', async (_name, encoding, bytes, status, code) => {
    await snapshot();
    expectRefused(await send('POST', '/v1/jobs', { ...JSON_TYPE, 'content-encoding': encoding }, bytes), status, code);
  });

  test('a body that really is gzip or brotli is accepted', async () => {
    for (const [encoding, bytes] of [['gzip', gzipSync(body)], ['br', brotliCompressSync(body)]] as const) {
      expect((await send('POST', '/v1/jobs', { ...JSON_TYPE, 'content-encoding': encoding }, bytes)).status).toBe(202);
    }
  });
});

describe('deep, large and unstorable bodies', () => {
  const valid = careerSubmission(6) as { input: Record<string, unknown> };
  const withMetadata = (metadataText: string) => JSON.stringify(valid).replace(/"metadata":\{[^}]*\}/, `"metadata":${metadataText}`);
  test.each([
    ['metadata 5,000 levels deep', withMetadata(nestedText(5000)), 'metadata_too_deep'],
    ['metadata 1,001 levels deep (past SQLite JSON)', withMetadata(nestedText(1001)), 'metadata_too_deep'],
    ['metadata 5 levels deep', withMetadata(nestedText(5)), 'metadata_too_deep'],
    ['deep metadata arrays', withMetadata(`{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`), 'metadata_too_deep'],
    ['input 5,000 levels deep', JSON.stringify(valid).replace('"input":{', `"input":{"deep":${nestedText(5000)},`), 'input_too_deep'],
    ['input 17 levels deep', JSON.stringify(valid).replace('"input":{', `"input":{"deep":${nestedText(16)},`), 'input_too_deep'],
    ['a "$" metadata key', withMetadata('{"$where":"1"}'), 'invalid_metadata_key'],
    ['a dotted metadata key', withMetadata('{"a":{"b.c":1}}'), 'invalid_metadata_key'],
    ['a "__proto__" metadata key', withMetadata('{"__proto__":{"polluted":true}}'), 'invalid_metadata_key'],
    ['a metadata string over 1,000 characters', withMetadata(`{"note":"${'x'.repeat(1001)}"}`), 'metadata_too_large'],
    ['metadata over 8 KiB', withMetadata(`{${Array.from({ length: 9 }, (_, i) => `"k${i}":"${'x'.repeat(1000)}"`).join(',')}}`), 'metadata_too_large'],
    ['51 nested metadata keys', withMetadata(`{"a":{${Array.from({ length: 51 }, (_, i) => `"k${i}":1`).join(',')}}}`), 'metadata_too_large'],
    ['a lone surrogate in metadata', withMetadata('{"a":"\\ud800"}'), 'invalid_unicode'],
    ['a lone surrogate in user_id', JSON.stringify({ ...valid, user_id: 'u' }).replace('"user_id":"u"', '"user_id":"\\udfff"'), 'invalid_unicode'],
  ])('%s answers 400 %s', async (_name, text, code) => {
    await snapshot();
    expectRefused(await post('/v1/jobs', text), 400, code);
    // Under an Idempotency-Key too: the key's fingerprint walks the body.
    expectRefused(await post('/v1/jobs', text, { 'idempotency-key': randomUUID() }), 400, code);
  });

  test('a deep feedback body answers 400 invalid_body', async () => {
    const { body } = await post('/v1/jobs', careerSubmission(7));
    await snapshot();
    expectRefused(await post(`/v1/jobs/${String(body.id)}/feedback`, `{"rating":5,"comment":${nestedText(10_000)}}`), 400, 'invalid_body');
  });

  test('metadata within every limit is accepted and kept as sent', async () => {
    const metadata = { a: { b: { c: 'x'.repeat(1000) } }, 'with space': [1, [2]], '😀': 'ü' };
    const { status, body } = await post('/v1/jobs', { ...careerSubmission(8), metadata });
    expect(status).toBe(202);
    expect((await send('GET', `/v1/jobs/${String(body.id)}`, AUTH)).body.metadata).toEqual(metadata);
  });
});

describe('header abuse', () => {
  const submission = JSON.stringify(careerSubmission(9));
  test.each([
    ['8 KiB long', 'k'.repeat(8 * 1024)],
    ['non-ASCII (raw bytes)', Buffer.from('clé-ü', 'utf8').toString('latin1')],
    ['with a tab', 'a\tb'],
    ['with spaces', 'a b'],
    ['sent twice', ['one', 'two']],
  ])('an Idempotency-Key %s answers 400 invalid_idempotency_key', async (_name, key) => {
    await snapshot();
    expectRefused(await send('POST', '/v1/jobs', { ...JSON_TYPE, 'idempotency-key': key }, submission), 400, 'invalid_idempotency_key');
  });

  test.each([
    ['8 KiB long', 'r'.repeat(8 * 1024)],
    ['non-ASCII (raw bytes)', Buffer.from('réq-ü', 'utf8').toString('latin1')],
    ['sent twice', ['one', 'two']],
  ])('an X-Request-Id %s is ignored', async (_name, id) => {
    expect((await send('POST', '/v1/jobs', { ...JSON_TYPE, 'x-request-id': id }, submission)).status).toBe(202);
  });

  test('a control character in a header is refused by the HTTP parser, never reaching the app', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.end(`POST /v1/jobs HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\u0001b\r\nX-Request-Id: \u0007\r\nContent-Length: 2\r\n\r\n{}`);
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    await once(socket, 'close');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
  });
});

describe('client aborts', () => {
  test('a client that closes the socket mid-body is answered 400 request_aborted and logged as no error', async () => {
    await snapshot();
    const seen = lateStatuses.length;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/jobs', headers: { ...JSON_TYPE, 'content-length': '5000' } });
    req.on('error', () => undefined);
    req.write('{"feature": "career_path_navigator", ');
    // The request is on the wire once the socket is connected and flushed; then hang up.
    await once(req, 'socket');
    await new Promise<void>((resolve) => req.once('finish', resolve).write('"user_id"', () => resolve()));
    req.destroy();
    const deadline = Date.now() + 5000;
    while (lateStatuses.length === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(lateStatuses.slice(seen)).toEqual([400]);
  });
});
