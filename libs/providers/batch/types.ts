/** One interface in front of every provider's batch API (OpenAI Batch, Anthropic Message Batches). */
import { classifyProviderError } from '../classify.ts';
import type { CompletionBodyInput, CompletionResult } from '../types.ts';

/** One request of a batch: its custom id (unique in the batch; [A-Za-z0-9_-]{1,64}) and the completion it asks for. */
export interface BatchItemRequest {
  customId: string;
  request: CompletionBodyInput;
}

/** Where a provider batch is: still running, or how it ended. */
export type BatchState = 'in_progress' | 'ended' | 'expired' | 'failed' | 'cancelled';

/** A provider batch's state, with its item counts when the provider reports them. */
export interface BatchStatus {
  providerBatchId: string;
  state: BatchState;
  /** Items the provider reports done/failed so far, when it says. */
  counts?: { done: number; failed: number; total: number };
}

/** What became of one item: its result, or why there is none (`code` is stable, e.g. `batch_expired`). */
export type BatchItemOutcome =
  | { customId: string; kind: 'succeeded'; result: CompletionResult }
  | { customId: string; kind: 'errored' | 'expired' | 'cancelled'; code: string; message: string; /** The provider answered (and billed) but the answer is unusable (cut short, empty). @defaultValue false */ billed?: boolean };

/** A provider's batch API through its official SDK. Every method throws BatchProviderError. */
export interface BatchProviderClient {
  readonly name: string;
  /** Uploads (OpenAI) and creates one batch tagged with our `localBatchId`; returns the provider's batch id. */
  submit(localBatchId: string, items: BatchItemRequest[], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<string>;
  /**
   * The provider batch created for `localBatchId`, if any (recovery after a crash between create
   * and recording its id), scanning recent batches. `customIds` are the items that batch was given:
   * Anthropic keeps no tag on a batch, so there they identify it (see AnthropicBatchClient.find).
   */
  find(localBatchId: string, customIds: readonly string[]): Promise<string | null>;
  /** The batch's state now. */
  status(providerBatchId: string): Promise<BatchStatus>;
  /** Every item's outcome, in `customIds` order, once the batch has ended/expired/cancelled/failed; an item with no line counts as expired (cancelled in a cancelled batch). */
  results(providerBatchId: string, customIds: readonly string[]): Promise<BatchItemOutcome[]>;
}

/**
 * A whole-batch call that failed: `code` is classify.ts's (`provider_unavailable`,
 * `provider_connection_error`, ...) or one of this lane's (`batch_invalid_items`,
 * `batch_not_ended`, `batch_find_undecided`).
 */
export class BatchProviderError extends Error {
  override readonly name = 'BatchProviderError';
  /** Stable machine-readable code. */
  readonly code: string;
  /** Worth another try later; false means the request itself is wrong. */
  readonly retryable: boolean;
  /** HTTP status, or 0 when no answer came or the call never left. */
  readonly status: number;
  /** Milliseconds the provider asked us to wait, if it did. */
  readonly retryAfterMs: number | undefined;
  readonly provider: string;

  constructor(provider: string, code: string, message: string, options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.provider = provider;
    this.code = code;
    this.retryable = options.retryable;
    this.status = options.status ?? 0;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Any error a batch call threw, classified as the realtime lane classifies provider errors. */
  static from(provider: string, error: unknown): BatchProviderError {
    if (error instanceof BatchProviderError) return error;
    const c = classifyProviderError(error);
    const message = error instanceof Error ? error.message : String(error);
    return new BatchProviderError(provider, c.code, `${provider} batch call failed: ${message}`, { retryable: c.retryable, status: c.status, retryAfterMs: c.retryAfterMs, cause: error });
  }
}

/** Runs one batch call, turning whatever it throws into a BatchProviderError. */
export async function batchCall<T>(provider: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw BatchProviderError.from(provider, e);
  }
}
