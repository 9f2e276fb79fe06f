/**
 * Property: whatever a client sends, the gateway answers below 500, every error in the documented
 * shape with a stable code, no process restarts, and valid jobs sent meanwhile all complete.
 * FUZZ_SEED (default fixed, so a run is repeatable) and FUZZ_RUNS (default 10000) steer it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import fc from 'fast-check';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { requestArb, type FuzzRequest } from '../helpers/fuzzRequests.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_131);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Requests in flight at once (one fast-check run sends this many). */
const PARALLEL = 24;
const VALID_JOBS = 200;
/** Milliseconds one request may take before it counts as unanswered. */
const REQUEST_TIMEOUT_MS = 15_000;
const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;
const ERROR_CODE = /^[a-z][a-z0-9_]*$/;
/** Every code an error answer may carry: the documented ones. */
const KNOWN_CODES = new Set([
  'invalid_json', 'invalid_body', 'unknown_feature', 'invalid_input', 'callback_url_invalid', 'callback_url_insecure', 'callback_url_forbidden',
  'invalid_idempotency_key', 'idempotency_key_reused', 'unauthorized', 'payload_too_large', 'unsupported_media_type', 'unsupported_content_encoding',
  'invalid_body_encoding', 'invalid_content_length', 'request_aborted', 'invalid_path', 'bad_request', 'rate_limited', 'budget_exhausted',
  'job_not_found', 'job_not_cancellable', 'job_not_completed', 'experiment_not_found', 'invalid_query', 'route_not_found', 'metadata_too_deep',
  'metadata_too_large', 'invalid_metadata_key', 'input_too_deep', 'invalid_unicode', 'webhook_not_found', 'webhook_not_replayable',
  'malformed_request', 'headers_too_large', 'request_timeout',
]);

let gateway: TestGateway;
const agent = new Agent({ keepAlive: true, maxSockets: PARALLEL });

beforeAll(async () => {
  gateway = await startTestGateway({
    env: { GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN },
    // High limits: the property is about answers, not about the rate limiter refusing them.
    editConfig: (config) =>
      config.edit('rate_limits.json', (json) => {
        json.clients.demo = { rpm: 1_000_000, read_rpm: 1_000_000 };
        json.budget.monthly_usd = 1_000_000;
      }),
  });
});

afterAll(async () => {
  agent.destroy();
  await gateway?.stop();
});

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Sends `r` as is (raw path, headers and bytes); rejects when no answer comes. An aborted request answers status 0. */
function send(url: URL, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Node's client sends a GET or DELETE body with neither length nor chunking unless told its length.
    const length = r.body === undefined ? undefined : r.body.length + (r.abort ? 1000 : 0);
    const headers = length === undefined ? r.headers : { ...r.headers, 'content-length': String(length) };
    const req = request({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
      res.on('error', r.abort ? () => undefined : reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    if (r.abort) {
      const hungUp = () => resolve({ status: 0, contentType: '', text: '' });
      req.on('error', hungUp).on('close', hungUp);
      req.write(r.body ?? '', () => req.destroy());
      return;
    }
    req.on('error', reject);
    req.end(r.body);
  });
}

/** What is wrong with an answer, or null: a 5xx, or an error body not in the documented shape. */
function problemWith(r: FuzzRequest, answer: Answer): string | null {
  if (answer.status === 0) return null; // we hung up: there is no answer to judge (the api's log is checked below)
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (answer.status < 400 || r.method === 'HEAD') return null;
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } };
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    return `answered ${answer.status} with a body that is not JSON (${answer.contentType}): ${answer.text.slice(0, 200)}`;
  }
  const e = body.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !Array.isArray(e.details)) return `answered ${answer.status} without {error: {code, message, details}}: ${answer.text.slice(0, 200)}`;
  if (!ERROR_CODE.test(e.code) || !KNOWN_CODES.has(e.code)) return `answered ${answer.status} with an undocumented code ${JSON.stringify(e.code)}`;
  return null;
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`);
const describeRequest = (r: FuzzRequest) => {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, clip(v, 60)]));
  const body = r.body === undefined ? '' : ` body(${r.body.length} B)=${JSON.stringify(clip(r.body.toString('latin1'), 160))}`;
  return `[${r.kind}] ${r.method} ${clip(r.path, 200)} headers=${JSON.stringify(headers)}${body}`;
};

test(`${RUNS} generated requests: no 5xx, documented errors, no restart, ${VALID_JOBS} valid jobs complete (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const url = new URL(gateway.system.apiUrl);
  const pids = gateway.system.processes.map((p) => `${p.name}:${p.child.pid}`);
  const issued: string[] = [];
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  const validIds: string[] = [];
  const batches = Math.ceil(RUNS / PARALLEL);
  let validSent = 0;

  const submitValid = async () => {
    const i = validSent++;
    try {
      const id = await gateway.client.submit({ ...careerSubmission(i), user_id: `fuzz-valid-${i}`, metadata: { fuzz: 'valid', n: i } });
      validIds.push(id);
      issued.push(id);
    } catch (e) {
      problems.push(`valid submission ${i} → ${(e as Error).message}`);
    }
  };
  const fire = async (r: FuzzRequest) => {
    const concrete = r.path.includes('{issued}') ? { ...r, path: r.path.replaceAll('{issued}', issued[r.path.length % Math.max(1, issued.length)] ?? randomUUID()) } : r;
    let answer: Answer;
    try {
      answer = await send(url, concrete);
    } catch (e) {
      problems.push(`${describeRequest(concrete)} → ${(e as Error).message}`);
      return;
    }
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const code = /"code":"([^"]*)"/.exec(answer.text)?.[1];
    if (answer.status >= 400 && code) codes.set(code, (codes.get(code) ?? 0) + 1);
    if (answer.status === 202 && concrete.kind === 'submit') issued.push((JSON.parse(answer.text) as { id: string }).id);
    const problem = problemWith(concrete, answer);
    if (problem) problems.push(`${describeRequest(concrete)} → ${problem}`);
  };

  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb({ apiKey: gateway.system.apiKey, adminToken: ADMIN_TOKEN }), { minLength: PARALLEL, maxLength: PARALLEL }), async (batch) => {
      // Valid jobs spread evenly over the run, sent alongside the generated requests.
      const valid = Math.min(VALID_JOBS - validSent, Math.ceil(VALID_JOBS / batches));
      await Promise.all([...batch.map(fire), ...Array.from({ length: valid }, submitValid)]);
    }),
    { seed: SEED, numRuns: batches, endOnFailure: true },
  );
  while (validSent < VALID_JOBS) await submitValid();
  const fuzzMs = Date.now() - started;

  const finished = await gateway.client.waitForAll(validIds, { timeoutMs: 90_000 });
  const notCompleted = validIds.filter((id) => finished.get(id)?.status !== 'completed');
  const alive = gateway.system.processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => `${p.name}:${p.child.pid}`);
  const apiErrors = gateway.system.processes.filter((p) => p.name === 'api').flatMap((p) => p.output().split('\n').filter((line) => line.includes('"request failed"')));
  console.info(
    `fuzz: ${batches * PARALLEL} requests in ${fuzzMs} ms (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}; ` +
      `codes ${JSON.stringify(Object.fromEntries([...codes].sort(([, a], [, b]) => b - a)))}`,
  );

  expect(problems.length, `${problems.length} bad answers (FUZZ_SEED=${SEED}); the first ones:\n${problems.slice(0, 8).join('\n')}`).toBe(0);
  expect(apiErrors.slice(0, 5), 'the api logged requests that failed on its side').toEqual([]);
  expect(alive, 'every process still alive with the pid it started with').toEqual(pids);
  expect(notCompleted.slice(0, 5).map((id) => ({ id, status: finished.get(id)?.status, error: finished.get(id)?.error })), 'valid jobs that did not complete').toEqual([]);
  expect(validIds).toHaveLength(VALID_JOBS);
});
