/**
 * The batch endpoints: OpenAI Files + Batch API and Anthropic Message Batches, as handlers from a
 * request to a Reply. They never touch the realtime call counters: batch work is counted apart.
 */
import { answerItem, BatchStore, pageOf, phaseOf, type SimBatch, type SimBatchItem } from './batches.ts';
import { anthropicBatch, anthropicResults, jsonReply, openAiBatch, openAiFile, openAiResultFiles, requestError } from './batchWire.ts';
import type { Provider } from './knobs.ts';
import type { SimulatorState } from './state.ts';
import { errorReply, type Reply } from './wire.ts';

/** A batch-endpoint request, read whole. */
export interface BatchRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: Buffer;
  /** Scheme and host the client reached us at (Anthropic's `results_url` is absolute). */
  origin: string;
}

const ANTHROPIC_PREFIX = '/v1/messages/batches';
const CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which provider's batch API a path belongs to, or undefined for any other path. */
export function batchProviderOf(path: string): Provider | undefined {
  if (path === ANTHROPIC_PREFIX || path.startsWith(`${ANTHROPIC_PREFIX}/`)) return 'anthropic';
  const rest = path.startsWith('/v1/') ? path.slice(3) : path;
  if (/^\/(files|batches)(\/|$)/.test(rest)) return 'openai';
  return undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

const listLimit = (query: URLSearchParams, max: number): number => {
  const n = Number(query.get('limit') ?? 20);
  return Number.isInteger(n) ? Math.min(Math.max(n, 1), max) : 20;
};

/** Answers a batch-endpoint request of `provider` (see batchProviderOf). */
export async function handleBatch(state: SimulatorState, provider: Provider, req: BatchRequest): Promise<Reply> {
  if (state.knobs[provider].batch.down) return errorReply(provider, 503);
  const now = Date.now();
  return provider === 'openai' ? openAiRoute(state, req, now) : anthropicRoute(state, req, now);
}

function createBatch(state: SimulatorState, provider: Provider, requests: { customId: string; body: unknown }[], extra: Pick<SimBatch, 'metadata' | 'inputFileId' | 'failure'>, now: number): SimBatch {
  const knobs = state.knobs[provider].batch;
  const failed = extra.failure !== null;
  const items: SimBatchItem[] = failed
    ? requests.map((r) => ({ customId: r.customId, answer: { kind: 'errored', status: 400, message: 'The batch failed validation.' } }))
    : requests.map((r) => ({ customId: r.customId, answer: answerItem(provider, r.body, knobs, state.batchRng(provider)) }));
  const batch: SimBatch = {
    id: BatchStore.batchId(provider),
    provider,
    createdAt: now,
    endsAt: now + knobs.completion_delay_ms,
    expires: !failed && state.takeExpiry(provider),
    items,
    cancelledAt: null,
    outputFileId: null,
    errorFileId: null,
    settled: false,
    ...extra,
  };
  state.batches.add(batch);
  // A batch refused at validation ran nothing: its items count as never submitted.
  state.batchCounters.submitted(provider, failed ? [] : items.map((i) => i.customId));
  return batch;
}

/** Makes a completed OpenAI batch's output and error files, once. */
function settleOpenAi(state: SimulatorState, batch: SimBatch, now: number): void {
  if (batch.settled || phaseOf(batch, now) !== 'completed') return;
  const { output, errors } = openAiResultFiles(batch);
  if (output !== '') batch.outputFileId = state.batches.addFile({ filename: `${batch.id}_output.jsonl`, purpose: 'batch_output', createdAt: now, content: output }).id;
  if (errors !== '') batch.errorFileId = state.batches.addFile({ filename: `${batch.id}_error.jsonl`, purpose: 'batch_output', createdAt: now, content: errors }).id;
  batch.settled = true;
}

/** The lines of an OpenAI batch input file as requests, or why the file is refused. */
function readInputFile(content: string): { requests: { customId: string; body: unknown }[]; failure: SimBatch['failure'] } {
  const requests: { customId: string; body: unknown }[] = [];
  const failure: NonNullable<SimBatch['failure']> = [];
  const seen = new Set<string>();
  content.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = index + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return void failure.push({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', line });
    }
    if (!isObject(parsed) || typeof parsed.custom_id !== 'string' || parsed.custom_id === '') return void failure.push({ code: 'missing_required_parameter', message: 'custom_id is required.', line });
    if (parsed.method !== 'POST' || parsed.url !== '/v1/chat/completions' || !isObject(parsed.body)) {
      return void failure.push({ code: 'invalid_request', message: "Each line needs method 'POST', url '/v1/chat/completions' and a body object.", line });
    }
    if (seen.has(parsed.custom_id)) return void failure.push({ code: 'duplicate_custom_id', message: `The custom_id '${parsed.custom_id}' is not unique in the batch.`, line });
    seen.add(parsed.custom_id);
    requests.push({ customId: parsed.custom_id, body: parsed.body });
  });
  if (requests.length === 0 && failure.length === 0) failure.push({ code: 'empty_file', message: 'The input file has no requests.', line: null });
  return { requests, failure: failure.length > 0 ? failure : null };
}

async function uploadFile(state: SimulatorState, req: BatchRequest, now: number): Promise<Reply> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': req.contentType } }).formData();
  } catch {
    return requestError('openai', 400, 'The body must be multipart/form-data with a file and a purpose.');
  }
  const file = form.get('file');
  const purpose = form.get('purpose');
  if (typeof file === 'string' || file === null) return requestError('openai', 400, "Missing required parameter: 'file'.");
  if (purpose !== 'batch') return requestError('openai', 400, "The simulator accepts files of purpose 'batch' only.");
  const stored = state.batches.addFile({ filename: file.name || 'upload.jsonl', purpose, createdAt: now, content: await file.text() });
  return jsonReply('openai', 200, openAiFile(stored));
}

async function openAiRoute(state: SimulatorState, req: BatchRequest, now: number): Promise<Reply> {
  const path = req.path.startsWith('/v1/') ? req.path.slice(3) : req.path;
  const [, collection, id, action, extra] = path.split('/');
  const route = `${req.method} ${collection}${id === undefined ? '' : '/:id'}${action === undefined ? '' : `/${action}`}`;
  if (extra !== undefined) return requestError('openai', 404, `No route ${req.method} ${req.path}.`);
  switch (route) {
    case 'POST files':
      return uploadFile(state, req, now);
    case 'GET files/:id':
    case 'GET files/:id/content': {
      const file = state.batches.file(id!);
      if (!file) return requestError('openai', 404, `No such File object: ${id}`);
      if (action === undefined) return jsonReply('openai', 200, openAiFile(file));
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.content };
    }
    case 'POST batches': {
      const body = parseJson(req.body);
      if (!isObject(body) || typeof body.input_file_id !== 'string') return requestError('openai', 400, "Missing required parameter: 'input_file_id'.");
      if (body.endpoint !== '/v1/chat/completions') return requestError('openai', 400, "The simulator batches endpoint '/v1/chat/completions' only.");
      if (body.completion_window !== '24h') return requestError('openai', 400, "completion_window must be '24h'.");
      const metadata = body.metadata ?? null;
      if (metadata !== null && (!isObject(metadata) || !Object.values(metadata).every((v) => typeof v === 'string'))) {
        return requestError('openai', 400, 'metadata must map keys to strings.');
      }
      const file = state.batches.file(body.input_file_id);
      if (!file) return requestError('openai', 404, `No such File object: ${body.input_file_id}`);
      const { requests, failure } = readInputFile(file.content);
      const batch = createBatch(state, 'openai', requests, { metadata: metadata as Record<string, string> | null, inputFileId: file.id, failure }, now);
      return jsonReply('openai', 200, openAiBatch(batch, now));
    }
    case 'GET batches': {
      const all = state.batches.list('openai');
      for (const b of all) settleOpenAi(state, b, now);
      const { data, hasMore } = pageOf(all, listLimit(req.query, 100), req.query.get('after') ?? undefined);
      return jsonReply('openai', 200, { object: 'list', data: data.map((b) => openAiBatch(b, now)), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
    }
    case 'GET batches/:id':
    case 'POST batches/:id/cancel': {
      const batch = state.batches.get('openai', id!);
      if (!batch) return requestError('openai', 404, `No batch found with id '${id}'.`);
      if (action === 'cancel') {
        const phase = phaseOf(batch, now);
        if (phase !== 'in_progress') return requestError('openai', 400, `Cannot cancel a batch with status '${phase}'.`);
        batch.cancelledAt = now;
        return jsonReply('openai', 200, openAiBatch(batch, now, true));
      }
      settleOpenAi(state, batch, now);
      return jsonReply('openai', 200, openAiBatch(batch, now));
    }
    default:
      return requestError('openai', 404, `No route ${req.method} ${req.path}.`);
  }
}

/** The `requests` of an Anthropic create body, or the 400 message. */
function readRequests(body: unknown): { customId: string; body: unknown }[] | string {
  if (!isObject(body) || !Array.isArray(body.requests) || body.requests.length === 0) return 'requests: must be a non-empty list';
  const seen = new Set<string>();
  const out: { customId: string; body: unknown }[] = [];
  for (const [i, r] of (body.requests as unknown[]).entries()) {
    if (!isObject(r) || typeof r.custom_id !== 'string' || !CUSTOM_ID.test(r.custom_id)) return `requests.${i}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`;
    if (!isObject(r.params)) return `requests.${i}.params: Field required`;
    if (seen.has(r.custom_id)) return `requests.${i}.custom_id: '${r.custom_id}' is not unique in the batch`;
    seen.add(r.custom_id);
    out.push({ customId: r.custom_id, body: r.params });
  }
  return out;
}

function anthropicRoute(state: SimulatorState, req: BatchRequest, now: number): Reply {
  const [id, action, extra] = req.path.slice(ANTHROPIC_PREFIX.length + 1).split('/').map((s) => (s === '' ? undefined : s));
  const route = `${req.method} ${id === undefined ? '' : ':id'}${action === undefined ? '' : `/${action}`}`;
  if (extra !== undefined) return requestError('anthropic', 404, `No route ${req.method} ${req.path}.`);
  switch (route) {
    case 'POST ': {
      const requests = readRequests(parseJson(req.body));
      if (typeof requests === 'string') return requestError('anthropic', 400, requests);
      const batch = createBatch(state, 'anthropic', requests, { metadata: null, inputFileId: null, failure: null }, now);
      return jsonReply('anthropic', 200, anthropicBatch(batch, now, req.origin));
    }
    case 'GET ': {
      const all = state.batches.list('anthropic');
      const { data, hasMore } = pageOf(all, listLimit(req.query, 1000), req.query.get('after_id') ?? undefined);
      return jsonReply('anthropic', 200, { data: data.map((b) => anthropicBatch(b, now, req.origin)), has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    case 'GET :id':
    case 'GET :id/results':
    case 'POST :id/cancel': {
      const batch = state.batches.get('anthropic', id!);
      if (!batch) return requestError('anthropic', 404, `No message batch with id '${id}'.`);
      const phase = phaseOf(batch, now);
      if (action === 'cancel') {
        if (phase !== 'in_progress') return requestError('anthropic', 400, `Message batch '${id}' has ended and cannot be canceled.`);
        batch.cancelledAt = now;
        return jsonReply('anthropic', 200, anthropicBatch(batch, now, req.origin, true));
      }
      if (action === 'results') {
        if (phase === 'in_progress') return requestError('anthropic', 400, `Message batch '${id}' is still processing; its results are not available yet.`);
        return { status: 200, headers: { 'content-type': 'application/x-jsonl' }, body: anthropicResults(batch, now) };
      }
      return jsonReply('anthropic', 200, anthropicBatch(batch, now, req.origin));
    }
    default:
      return requestError('anthropic', 404, `No route ${req.method} ${req.path}.`);
  }
}
