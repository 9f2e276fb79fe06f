/**
 * Pure mapping of the two batch APIs' shapes onto BatchStatus and BatchItemOutcome, with the
 * realtime adapters' normalisation (finish reasons, usage, completeness). No I/O.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { messageResult } from '../anthropic.ts';
import { classifyProviderError } from '../classify.ts';
import { chatCompletionResult } from '../openai.ts';
import type { CompletionResult } from '../types.ts';
import type { BatchItemOutcome, BatchItemRequest, BatchState, BatchStatus } from './types.ts';

const CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Why a set of items cannot be one batch (a custom id malformed or repeated, none at all), or null when it can. */
export function invalidItems(items: readonly BatchItemRequest[]): string | null {
  if (items.length === 0) return 'a batch needs at least one item';
  const seen = new Set<string>();
  for (const { customId } of items) {
    if (!CUSTOM_ID.test(customId)) return `custom id '${customId}' must match [A-Za-z0-9_-]{1,64}`;
    if (seen.has(customId)) return `custom id '${customId}' appears twice`;
    seen.add(customId);
  }
  return null;
}

const OPENAI_STATE: Record<OpenAI.Batch['status'], BatchState> = {
  validating: 'in_progress',
  in_progress: 'in_progress',
  finalizing: 'in_progress',
  cancelling: 'in_progress',
  completed: 'ended',
  expired: 'expired',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** An OpenAI Batch object as our status; an unknown status counts as still running. */
export function openAiStatus(batch: Pick<OpenAI.Batch, 'id' | 'status' | 'request_counts'>): BatchStatus {
  const counts = batch.request_counts;
  return {
    providerBatchId: batch.id,
    state: OPENAI_STATE[batch.status] ?? 'in_progress',
    ...(counts ? { counts: { done: counts.completed, failed: counts.failed, total: counts.total } } : {}),
  };
}

/** An Anthropic Message Batch as our status: an ended batch is `cancelled` when a cancel was asked, `expired` when every item expired. */
export function anthropicStatus(batch: Pick<Anthropic.Messages.MessageBatch, 'id' | 'processing_status' | 'request_counts' | 'cancel_initiated_at'>): BatchStatus {
  const c = batch.request_counts;
  const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
  let state: BatchState = 'in_progress';
  if (batch.processing_status === 'ended') {
    if (batch.cancel_initiated_at) state = 'cancelled';
    else if (total > 0 && c.expired === total) state = 'expired';
    else state = 'ended';
  }
  return { providerBatchId: batch.id, state, counts: { done: c.succeeded, failed: c.errored + c.canceled + c.expired, total } };
}

/** What an item with no result line became, from its batch's final state. */
export function missingOutcome(customId: string, state: BatchState, failure?: string): BatchItemOutcome {
  if (state === 'cancelled') return { customId, kind: 'cancelled', code: 'batch_cancelled', message: 'The batch was cancelled before this item ran.' };
  if (state === 'failed') return { customId, kind: 'errored', code: 'batch_failed', message: `The provider refused the batch: ${failure ?? 'no reason given'}` };
  return { customId, kind: 'expired', code: 'batch_expired', message: 'The batch ended without a result for this item.' };
}

/** A provider answer normalised as the realtime lane does; an incomplete one is an errored outcome with the classifier's code. */
function fromAnswer(customId: string, toResult: () => CompletionResult): BatchItemOutcome {
  try {
    return { customId, kind: 'succeeded', result: toResult() };
  } catch (e) {
    const c = classifyProviderError(e);
    // The provider answered: the batch APIs bill it, usable or not.
    return { customId, kind: 'errored', code: c.code, message: e instanceof Error ? e.message : String(e), billed: true };
  }
}

/** An errored item by its HTTP status; 0 (no status known) is the classifier's generic, retryable `provider_error`. */
const errored = (customId: string, status: number, message: string): BatchItemOutcome => ({ customId, kind: 'errored', code: classifyProviderError(status > 0 ? { status } : {}).code, message });

/** One line of an OpenAI batch output or error file. */
interface OpenAiLine {
  custom_id?: unknown;
  response?: { status_code?: unknown; body?: unknown } | null;
  error?: { code?: unknown; message?: unknown } | null;
}

/** An OpenAI output/error file line as an outcome; undefined for a line that names no custom id. */
export function openAiLineOutcome(provider: string, line: OpenAiLine): BatchItemOutcome | undefined {
  if (typeof line.custom_id !== 'string') return undefined;
  const customId = line.custom_id;
  const status = typeof line.response?.status_code === 'number' ? line.response.status_code : undefined;
  if (status === 200) return fromAnswer(customId, () => chatCompletionResult(provider, line.response!.body as OpenAI.ChatCompletion, ''));
  const code = typeof line.error?.code === 'string' ? line.error.code : undefined;
  const bodyError = (line.response?.body as { error?: { message?: unknown } } | undefined)?.error;
  const message = String(bodyError?.message ?? line.error?.message ?? 'The item failed.');
  // OpenAI writes items a batch never ran into the error file under these codes.
  if (code === 'batch_expired') return { customId, kind: 'expired', code: 'batch_expired', message };
  if (code === 'batch_cancelled') return { customId, kind: 'cancelled', code: 'batch_cancelled', message };
  return errored(customId, status ?? 0, status === undefined ? `${code ?? 'error'}: ${message}` : message);
}

/** Parses JSONL text into objects, skipping blank lines and any line that is not a JSON object. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) out.push(value as Record<string, unknown>);
    } catch {
      // A broken line leaves its item without a result: it then counts as missing (expired).
    }
  }
  return out;
}

/** Anthropic error types as the HTTP statuses classify.ts reads. */
const ANTHROPIC_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** One Anthropic results line as an outcome. */
export function anthropicLineOutcome(provider: string, line: Anthropic.Messages.MessageBatchIndividualResponse): BatchItemOutcome {
  const customId = line.custom_id;
  const result = line.result;
  switch (result?.type) {
    case 'succeeded':
      return fromAnswer(customId, () => messageResult(provider, result.message, ''));
    case 'errored': {
      const inner = result.error?.error;
      return errored(customId, ANTHROPIC_STATUS[inner?.type ?? ''] ?? 500, inner?.message ?? 'The item failed.');
    }
    case 'canceled':
      return { customId, kind: 'cancelled', code: 'batch_cancelled', message: 'The batch was cancelled before this item ran.' };
    case 'expired':
      return { customId, kind: 'expired', code: 'batch_expired', message: 'The batch expired before this item ran.' };
    default:
      return errored(customId, 0, `Unknown result type '${String((result as { type?: unknown } | undefined)?.type)}'.`);
  }
}

/** Every submitted item's outcome in `customIds` order: its line's, else what a missing line means for a batch in `state`. */
export function collectOutcomes(customIds: readonly string[], parsed: Iterable<BatchItemOutcome | undefined>, state: BatchState, failure?: string): BatchItemOutcome[] {
  const byId = new Map<string, BatchItemOutcome>();
  for (const outcome of parsed) if (outcome) byId.set(outcome.customId, outcome);
  return customIds.map((id) => byId.get(id) ?? missingOutcome(id, state, failure));
}
