/**
 * fast-check generators of hostile HTTP requests to the gateway: every endpoint, odd methods and
 * paths (percent-encoding junk, BullMQ key names), odd headers, and bodies that are valid
 * submissions mutated, deep or wide JSON, compressed or not, non-JSON, or near the size limit.
 */
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

/** A generated request. `{issued}` in `path` stands for a job id the gateway issued during the run. */
export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Hang up after sending the body, while the server still waits for more of it (Content-Length is higher). */
  abort?: boolean;
}

/** What the generators need to send requests that get past authentication. */
export interface FuzzSecrets {
  apiKey: string;
  adminToken: string;
}

/** Stands for the value `levels` levels deep, written as text: JSON.stringify itself overflows on it. */
class Deep {
  readonly levels: number;
  readonly array: boolean;
  constructor(levels: number, array: boolean) {
    this.levels = levels;
    this.array = array;
  }
  text(): string {
    return this.array ? `${'['.repeat(this.levels)}${']'.repeat(this.levels)}` : `${'{"a":'.repeat(this.levels)}1${'}'.repeat(this.levels)}`;
  }
}

/** JSON text of `value`, with each Deep written out in place. */
export function toJsonText(value: unknown): string {
  const deep: Deep[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof Deep ? `__deep_${deep.push(v) - 1}__` : v)) ?? 'null';
  return text.replace(/"__deep_(\d+)__"/g, (_m, i: string) => deep[Number(i)]!.text());
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const BULL_KEYS = ['events', 'id', 'stalled-check', 'completed', 'wait', 'delayed', 'active', 'meta', 'prioritized', 'marker', 'failed', 'paused', 'limiter', 'pc', 'repeat', 'de'];
const PERCENT_JUNK = ['%', '%ff%fe', '%E0%A4%A', '%00', '%2F', '%2e%2e', '%25', '%c0%af', '%ZZ', '%u0041', '%%', '%F0%9F%98'];
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'prototype'];
const LONE_SURROGATES = ['\ud800', '\udfff', 'a\ud83d', '\ude00b'];

const deepArb = fc.record({ levels: fc.constantFrom(5, 17, 100, 1001, 5000, 10_000), array: fc.boolean() }).map(({ levels, array }) => new Deep(levels, array));
/** Characters Node's HTTP client lets through in a header value: tab, printable ASCII, and Latin-1. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength });
const segmentChar = fc.constantFrom(...'abcXYZ019-_.~:@!$&\'()*+,;=/?'.split(''), '%41', '%zz', '%ff', '%2F', '%');
const segmentArb = fc.string({ unit: segmentChar, minLength: 1, maxLength: 24 });

/** Any value a client could put in a field: JSON, prototype names, deep values, lone surrogates, long strings. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_NAMES, ...LONE_SURROGATES, '', ' ', -1, 0, 1e308, 2 ** 53 + 1, true, null) },
  { weight: 2, arbitrary: deepArb },
  { weight: 1, arbitrary: fc.integer({ min: 990, max: 1010 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('$where', 'a.b', 'a\u0000b', '__proto__', 'k', '\ud800', '😀', ''), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 45, max: 60 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))) },
  { weight: 1, arbitrary: fc.integer({ min: 7, max: 9 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'y'.repeat(1000)]))) },
);

const CALLBACKS = ['https://[2002:7f00:1::]/', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'https://127.0.0.1/h', 'http://93.184.216.34/h', 'https://[::ffff:10.0.0.1]/', 'https://93.184.216.34/hook', 'ftp://x/', 'not a url'];
const FIELDS: string[][] = [['feature'], ['user_id'], ['input'], ['metadata'], ['callback_url'], ['surprise'], ['input', 'current_role'], ['input', 'degree'], ['input', 'degree', 'level'], ['input', 'years_experience'], ['input', 'skills'], ['input', 'market_data'], ['input', 'extra'], ['metadata', 'note'], ['metadata', 'a', 'b']];
const DELETE = Symbol('delete');
const mutationArb = fc.tuple(
  fc.constantFrom(...FIELDS),
  fc.oneof({ weight: 6, arbitrary: valueArb }, { weight: 1, arbitrary: fc.constant(DELETE) }, { weight: 1, arbitrary: fc.constantFrom(...CALLBACKS) }),
);

function mutate(base: Record<string, unknown>, mutations: Array<[string[], unknown]>): Record<string, unknown> {
  const body = structuredClone(base);
  for (const [path, value] of mutations) {
    let at: Record<string, unknown> = body;
    for (const key of path.slice(0, -1)) {
      const next = at[key];
      if (next === null || typeof next !== 'object' || next instanceof Deep) at[key] = {};
      at = at[key] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (value === DELETE) delete at[last];
    else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
  }
  return body;
}

const submissionBody = fc
  .tuple(fc.nat({ max: 49 }), fc.array(mutationArb, { maxLength: 3 }), fc.oneof({ weight: 6, arbitrary: fc.constant('career_path_navigator') }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES) }))
  .map(([i, mutations, feature]) => toJsonText(mutate({ ...careerSubmission(i), feature }, mutations)));
const feedbackBody = fc.oneof(
  fc.record({ rating: fc.oneof(fc.integer({ min: 0, max: 6 }), valueArb), helpful: fc.option(fc.boolean(), { nil: undefined }), comment: fc.option(fc.integer({ min: 1990, max: 2010 }).map((n) => 'c'.repeat(n)), { nil: undefined }) }).map(toJsonText),
  fc.tuple(fc.constantFrom('rating', 'comment', 'surprise'), valueArb).map(([k, v]) => toJsonText({ rating: 3, [k]: v })),
);
const junkBody = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('', '{', '{"feature": ', 'null', '[]', '"x"', '{"a":1}{"b":2}', '\ufeff{}', 'feature=x&input=y'),
  deepArb.map((d) => d.text()),
  fc.integer({ min: 65_300, max: 65_800 }).map((n) => `{"feature":"${'x'.repeat(n)}"}`),
);

type Encoding = { header?: string; encode: (b: Buffer) => Buffer };
const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>({ encode: (b) => b }) },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>({ header: 'gzip', encode: (b) => gzipSync(b) }, { header: 'deflate', encode: (b) => deflateSync(b) }, { header: 'br', encode: (b) => brotliCompressSync(b) }, { header: 'zstd', encode: (b) => zstdCompressSync(b) }) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'GZIP').map<Encoding>((header) => ({ header, encode: (b) => b })) },
  { weight: 1, arbitrary: fc.constantFrom('xz', 'gzip, br', 'identity', 'compress', '*').map<Encoding>((header) => ({ header, encode: (b) => b })) },
  { weight: 1, arbitrary: fc.constant<Encoding>({ header: 'gzip', encode: (b) => gzipSync(b).subarray(0, Math.max(10, b.length >> 2)) }) },
);
const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(undefined, 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset="', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*', '', 'application/vnd.api+json') },
);

function headersArb(secrets: FuzzSecrets, contentType: boolean): fc.Arbitrary<Record<string, string>> {
  const auth = fc.oneof(
    { weight: 10, arbitrary: fc.constant(`Bearer ${secrets.apiKey}`) },
    { weight: 2, arbitrary: fc.constantFrom(undefined, 'Bearer', 'Bearer not-a-real-key-000000000', `bearer   ${secrets.apiKey}  `, `Basic ${Buffer.from(`x:${secrets.apiKey}`).toString('base64')}`) },
    { weight: 1, arbitrary: headerText(300).map((s) => `Bearer ${s}`) },
  );
  // Present in about two requests of five.
  const optional = (arb: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: arb });
  return fc
    .record({
      authorization: auth,
      'content-type': contentType ? contentTypeArb : fc.constant(undefined),
      'idempotency-key': optional(fc.oneof(fc.uuid(), fc.constantFrom('k1', 'k2', 'k3'), headerText(40), fc.integer({ min: 250, max: 8000 }).map((n) => 'k'.repeat(n)))),
      'x-request-id': optional(fc.oneof(fc.uuid(), headerText(60), fc.integer({ min: 1000, max: 8000 }).map((n) => 'r'.repeat(n)))),
      accept: optional(fc.constantFrom('*/*', 'text/html', 'application/json;q=0', '')),
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined)));
}

const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant('{issued}') },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: fc.constantFrom(...BULL_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...PERCENT_JUNK) },
  { weight: 1, arbitrary: fc.constantFrom(':lock', ':logs', '%3Alock', '/..', '%00', '%2Flock').map((s) => `{issued}${s}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^idem-[0-9a-f]{32}$/) },
  { weight: 2, arbitrary: segmentArb },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES, '..', '.', 'x'.repeat(2000)) },
);
const queryArb = fc.option(fc.oneof(fc.constantFrom('since=2026-01-31', 'since=2026-01-31T00:00:00Z', 'since=junk', 'since=a&since=b', 'since[x]=1', 'since=%', 'since=0000-01-01', 'since=9999-99-99'), segmentArb), { nil: undefined, freq: 2 });
const withQuery = (path: string, query: string | undefined) => (query === undefined ? path : `${path}?${query}`);

/** Every kind of request the suite sends, weighted toward the endpoints that take input. */
export function requestArb(secrets: FuzzSecrets): fc.Arbitrary<FuzzRequest> {
  const withBody = (kind: string, method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, body: fc.Arbitrary<string | Buffer>) =>
    fc
      .record({ method, path, headers: headersArb(secrets, true), body, encoding: encodingArb, abort: fc.oneof({ weight: 39, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(true) }) })
      .map(({ method, path, headers, body, encoding, abort }): FuzzRequest => {
        const headersOut = encoding.header === undefined ? headers : { ...headers, 'content-encoding': encoding.header };
        return { kind: abort ? `${kind}-aborted` : kind, method, path, headers: headersOut, body: encoding.encode(Buffer.from(body)), ...(abort ? { abort } : {}) };
      });
  const noBody = (kind: string, method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, headers = headersArb(secrets, false)) =>
    fc.record({ method, path, headers }).map(({ method, path, headers }): FuzzRequest => ({ kind, method, path, headers }));

  const admin = fc.oneof(
    noBody('admin', fc.constantFrom(...METHODS), fc.constantFrom('/admin', '/admin/', '/admin/queues', '/admin/queues/api/queues', '/admin/queues/api/queues/llm-jobs/pause', '/admin/webhooks/x/replay')),
    // With the real token only what cannot change the queues: Bull Board's page and API reads, and replays of ids that have no delivery.
    noBody('admin-authorized', fc.constant('GET'), fc.constantFrom('/admin/queues', '/admin/queues/', '/admin/queues/api/queues', '/admin/queues/api/redis/stats'), fc.constant({ authorization: `Bearer ${secrets.adminToken}` })),
    noBody('admin-replay', fc.constant('POST'), idArb.map((id) => `/admin/webhooks/${id}/replay`), fc.constant({ authorization: `Bearer ${secrets.adminToken}` })),
  );
  return fc.oneof(
    { weight: 30, arbitrary: withBody('submit', fc.constant('POST'), fc.constantFrom('/v1/jobs', '/v1/jobs/', '/v1//jobs', '/V1/jobs'), fc.oneof({ weight: 6, arbitrary: submissionBody }, { weight: 1, arbitrary: junkBody })) },
    { weight: 15, arbitrary: noBody('job', fc.constantFrom('GET', 'GET', 'DELETE', 'HEAD'), idArb.map((id) => `/v1/jobs/${id}`)) },
    { weight: 10, arbitrary: withBody('feedback', fc.constant('POST'), idArb.map((id) => `/v1/jobs/${id}/feedback`), fc.oneof({ weight: 4, arbitrary: feedbackBody }, { weight: 1, arbitrary: junkBody })) },
    { weight: 4, arbitrary: noBody('budget', fc.constantFrom('GET', 'GET', 'POST', 'HEAD'), queryArb.map((q) => withQuery('/v1/budget', q))) },
    { weight: 8, arbitrary: noBody('report', fc.constant('GET'), fc.tuple(fc.oneof(fc.constant('career_model_ab'), idArb), queryArb).map(([id, q]) => withQuery(`/v1/experiments/${id}/report`, q))) },
    { weight: 6, arbitrary: admin },
    { weight: 5, arbitrary: noBody('ops', fc.constantFrom(...METHODS), fc.tuple(fc.constantFrom('/metrics', '/healthz', '/readyz'), queryArb).map(([p, q]) => withQuery(p, q))) },
    {
      weight: 10,
      arbitrary: withBody(
        'anything',
        fc.constantFrom(...METHODS),
        fc.tuple(fc.constantFrom('', '/v1', '/v1/jobs', '/v1/jobs/{issued}', '/admin', '/v2', '/..', '//'), segmentArb).map(([a, b]) => `${a}/${b}`),
        fc.oneof(submissionBody, junkBody),
      ),
    },
  );
}
