/**
 * The wire shapes of the two batch APIs: OpenAI's Batch object, file object and output/error file
 * lines; Anthropic's Message Batch object and results lines. No I/O.
 */
import { randomUUID } from 'node:crypto';
import { endedAt, phaseOf, type SimBatch, type SimBatchItem, type SimFile } from './batches.ts';
import type { Provider } from './knobs.ts';
import { errorReply, type Reply } from './wire.ts';

/** How long a batch may take before the provider expires it: both say 24 hours. */
const WINDOW_MS = 24 * 60 * 60 * 1000;

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const requestId = (): string => `req_${randomUUID().replaceAll('-', '')}`;

/** A JSON answer with the provider's request-id header. */
export function jsonReply(provider: Provider, status: number, body: unknown): Reply {
  const header = provider === 'openai' ? 'x-request-id' : 'request-id';
  return { status, headers: { 'content-type': 'application/json', [header]: requestId() }, body: JSON.stringify(body) };
}

/** A 4xx in the provider's error format, with no error code for OpenAI (not a model error). */
export function requestError(provider: Provider, status: 400 | 404, message: string): Reply {
  const reply = errorReply(provider, status, message);
  if (provider === 'openai') {
    const body = JSON.parse(reply.body) as { error: { code: unknown } };
    body.error.code = null;
    reply.body = JSON.stringify(body);
  }
  return reply;
}

const counted = (items: SimBatchItem[], kind: 'succeeded' | 'errored') => items.filter((i) => i.answer.kind === kind).length;

/** The OpenAI Batch object; `cancelling` shows the state a cancel call answers with. */
export function openAiBatch(batch: SimBatch, now: number, cancelling = false): Record<string, unknown> {
  const phase = phaseOf(batch, now);
  const status = cancelling ? 'cancelling' : phase === 'in_progress' ? 'in_progress' : phase;
  const ended = endedAt(batch, now);
  const completed = phase === 'completed';
  return {
    id: batch.id,
    object: 'batch',
    endpoint: '/v1/chat/completions',
    errors: batch.failure ? { object: 'list', data: batch.failure } : null,
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: seconds(batch.createdAt),
    in_progress_at: batch.failure ? null : seconds(batch.createdAt),
    expires_at: seconds(batch.createdAt + WINDOW_MS),
    finalizing_at: completed ? seconds(ended) : null,
    completed_at: completed ? seconds(ended) : null,
    failed_at: phase === 'failed' ? seconds(ended) : null,
    expired_at: phase === 'expired' ? seconds(ended) : null,
    cancelling_at: batch.cancelledAt === null ? null : seconds(batch.cancelledAt),
    cancelled_at: phase === 'cancelled' && !cancelling ? seconds(ended) : null,
    request_counts: {
      total: batch.items.length,
      completed: completed ? counted(batch.items, 'succeeded') : 0,
      failed: completed ? counted(batch.items, 'errored') : 0,
    },
    metadata: batch.metadata,
  };
}

/** The OpenAI File object. */
export function openAiFile(file: SimFile): Record<string, unknown> {
  return { id: file.id, object: 'file', bytes: Buffer.byteLength(file.content), created_at: seconds(file.createdAt), filename: file.filename, purpose: file.purpose, status: 'processed', expires_at: null, status_details: null };
}

const OPENAI_ERROR_TYPE: Record<number, string> = { 400: 'invalid_request_error' };

/** The output file (succeeded items) and error file (errored items) of a completed OpenAI batch, JSONL; '' when none. */
export function openAiResultFiles(batch: SimBatch): { output: string; errors: string } {
  const output: string[] = [];
  const errors: string[] = [];
  for (const item of batch.items) {
    const id = `batch_req_${randomUUID().replaceAll('-', '')}`;
    const { answer } = item;
    if (answer.kind === 'succeeded') {
      output.push(JSON.stringify({ id, custom_id: item.customId, response: { status_code: 200, request_id: requestId(), body: answer.body }, error: null }));
    } else {
      const body = { error: { message: answer.message, type: OPENAI_ERROR_TYPE[answer.status] ?? 'server_error', param: null, code: null } };
      errors.push(JSON.stringify({ id, custom_id: item.customId, response: { status_code: answer.status, request_id: requestId(), body }, error: null }));
    }
  }
  const jsonl = (lines: string[]) => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  return { output: jsonl(output), errors: jsonl(errors) };
}

/** The Anthropic Message Batch object; `origin` (e.g. http://127.0.0.1:4010) makes `results_url` absolute. */
export function anthropicBatch(batch: SimBatch, now: number, origin: string, canceling = false): Record<string, unknown> {
  const phase = phaseOf(batch, now);
  const over = phase !== 'in_progress' && !canceling;
  const n = batch.items.length;
  const completed = phase === 'completed';
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: canceling ? 'canceling' : over ? 'ended' : 'in_progress',
    request_counts: {
      processing: over ? 0 : n,
      succeeded: over && completed ? counted(batch.items, 'succeeded') : 0,
      errored: over && completed ? counted(batch.items, 'errored') : 0,
      canceled: over && phase === 'cancelled' ? n : 0,
      expired: over && phase === 'expired' ? n : 0,
    },
    ended_at: over ? iso(endedAt(batch, now)) : null,
    created_at: iso(batch.createdAt),
    expires_at: iso(batch.createdAt + WINDOW_MS),
    archived_at: null,
    cancel_initiated_at: iso(batch.cancelledAt),
    results_url: over ? `${origin}/v1/messages/batches/${batch.id}/results` : null,
  };
}

const ANTHROPIC_ERROR_TYPE: Record<number, string> = { 400: 'invalid_request_error', 500: 'api_error' };

/** The results file of an ended Anthropic batch, JSONL, one line per item. */
export function anthropicResults(batch: SimBatch, now: number): string {
  const phase = phaseOf(batch, now);
  const lines = batch.items.map((item) => {
    const { answer } = item;
    let result: unknown;
    if (phase === 'cancelled') result = { type: 'canceled' };
    else if (phase === 'expired') result = { type: 'expired' };
    else if (answer.kind === 'succeeded') result = { type: 'succeeded', message: answer.body };
    else result = { type: 'errored', error: { type: 'error', error: { type: ANTHROPIC_ERROR_TYPE[answer.status] ?? 'api_error', message: answer.message }, request_id: null } };
    return JSON.stringify({ custom_id: item.customId, result });
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
