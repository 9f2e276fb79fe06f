/**
 * The simulator's HTTP server (node:http, no framework, for throughput): routes provider calls
 * through the fault knobs and serves the admin endpoints.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin.ts';
import type { BatchCallCounts } from './batchCounters.ts';
import { batchProviderOf, handleBatch } from './batchRoutes.ts';
import { careerPlan } from './careerPlan.ts';
import type { CallCounts } from './counters.ts';
import type { CallsReceived } from './received.ts';
import { defaultKnobs, mergeKnobs, type Knobs, type MergeResult, type PartialKnobs, type Provider } from './knobs.ts';
import { decideOutcome } from './outcome.ts';
import { SimulatorState } from './state.ts';
import { errorReply, malformedReply, parseRequest, successReply, type Reply } from './wire.ts';

/** Options of startSimulator. */
export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. Default 4010. */
  port?: number;
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Knobs merged onto the defaults; also what `reset({knobs: true})` restores. Default: none. */
  knobs?: PartialKnobs;
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:4010` (no trailing slash, no /v1). */
  url: string;
  port: number;
  /** Stops listening and destroys every open connection, hung ones included. */
  close(): Promise<void>;
  /** Merges a knob patch, as PUT /admin/knobs does. */
  setKnobs(patch: PartialKnobs): MergeResult;
  /** The knobs in force. */
  knobs(): Knobs;
  /** The call counters, as GET /admin/calls returns them (realtime calls only). */
  calls(): CallCounts;
  /** The batch API counts, as GET /admin/calls/batch returns them. */
  batchCalls(): BatchCallCounts;
  /** Generation parameters of the last calls, as GET /admin/calls/received returns them. */
  received(): CallsReceived;
  /** Zeroes the counters and forgets received calls; with `{knobs: true}` also restores the start knobs. */
  reset(options?: { knobs?: boolean }): void;
}

/** Largest request body accepted, in bytes. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const PROVIDER_ROUTES: Record<string, Provider> = {
  '/v1/chat/completions': 'openai',
  '/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
};

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function readBytes(req: IncomingMessage, onDone: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => onDone(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
  req.on('error', () => undefined);
}

function readBody(req: IncomingMessage, onDone: (body: string | undefined) => void): void {
  readBytes(req, (body) => onDone(body?.toString('utf8')));
}

function handleBatchRequest(state: SimulatorState, provider: Provider, req: IncomingMessage, res: ServerResponse): void {
  readBytes(req, (body) => {
    if (body === undefined) return send(res, errorReply(provider, 413, 'Request body too large.'));
    const url = new URL(req.url ?? '/', 'http://simulator');
    const batchRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers['content-type'] ?? '',
      body,
      origin: `http://${req.headers.host ?? '127.0.0.1'}`,
    };
    handleBatch(state, provider, batchRequest).then(
      (reply) => send(res, reply),
      () => send(res, errorReply(provider, 500)),
    );
  });
}

function handleProvider(state: SimulatorState, provider: Provider, req: IncomingMessage, res: ServerResponse): void {
  const jobHeader = req.headers['x-gateway-job-id'];
  state.counters.started(provider, Array.isArray(jobHeader) ? jobHeader[0] : jobHeader);
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => {
    if (timer) clearTimeout(timer);
    state.counters.ended(provider, !res.writableFinished);
  });
  readBody(req, (raw) => {
    if (raw === undefined) return send(res, errorReply(provider, 413, 'Request body too large.'));
    const knobs = state.knobs[provider];
    if (knobs.down) return send(res, errorReply(provider, 503));
    const parsed = parseRequest(provider, raw);
    if (!parsed.ok) return send(res, errorReply(provider, 400, parsed.message));
    const job = Array.isArray(jobHeader) ? jobHeader[0] : jobHeader;
    state.received.record({ provider, model: parsed.request.model, job_id: job ?? null, at: Date.now(), ...parsed.request.received });
    const outcome = decideOutcome(knobs, state.rng(provider));
    if (outcome.kind === 'hang' || outcome.kind === 'down') {
      if (outcome.kind === 'down') send(res, errorReply(provider, 503));
      return; // a hang answers nothing; the 'close' listener counts the client giving up
    }
    const answer = (): void => {
      if (outcome.kind === 'error') send(res, errorReply(provider, outcome.status, undefined, knobs.retry_after_s));
      else if (outcome.kind === 'malformed') send(res, malformedReply(provider, outcome.variant));
      else {
        const reply = successReply(provider, parsed.request, careerPlan(parsed.request.prompt));
        // Billed once the whole answer is handed to the socket, as a provider bills a finished generation.
        if (!res.destroyed && !res.writableEnded) state.counters.billed(provider, parsed.request.model, reply.usage.inputTokens, reply.usage.outputTokens);
        send(res, reply);
      }
    };
    if (outcome.delayMs > 0) timer = setTimeout(answer, outcome.delayMs);
    else answer();
  });
}

/** Starts the simulator; resolves once it listens. Throws when `options.knobs` is invalid. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const initial = mergeKnobs(defaultKnobs(), options.knobs ?? {});
  if (!initial.ok) throw new Error(`invalid simulator knobs: ${initial.errors.join('; ')}`);
  const state = new SimulatorState(initial.knobs);

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const provider = PROVIDER_ROUTES[path];
    if (provider && req.method === 'POST') return handleProvider(state, provider, req, res);
    const batchProvider = batchProviderOf(path);
    if (batchProvider) return handleBatchRequest(state, batchProvider, req, res);
    readBody(req, (raw) => {
      const reply = handleAdmin(state, req.method ?? 'GET', path, raw ?? '');
      send(res, reply ?? { status: 404, headers: { 'content-type': 'application/json' }, body: '{"error":{"code":"not_found","message":"Not found."}}' });
    });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4010, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    setKnobs: (patch) => state.setKnobs(patch),
    knobs: () => state.knobs,
    calls: () => state.counters.snapshot(),
    batchCalls: () => state.batchCounters.snapshot(),
    received: () => state.received.snapshot(),
    reset: (opts) => state.reset(opts),
  };
}
