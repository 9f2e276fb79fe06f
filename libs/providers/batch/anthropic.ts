/**
 * Anthropic's Message Batches API through the official SDK (over providerFetch, SDK retries off).
 * A message batch carries no metadata, so `find` recognises ours by its custom ids.
 */
import Anthropic from '@anthropic-ai/sdk';
import { messageBody } from '../anthropic.ts';
import { providerFetch } from '../transport.ts';
import { FIND_LOOKBACK_MS } from './openai.ts';
import { anthropicLineOutcome, anthropicStatus, collectOutcomes, invalidItems } from './parse.ts';
import { batchCall, BatchProviderError, type BatchItemOutcome, type BatchItemRequest, type BatchProviderClient, type BatchStatus } from './types.ts';

/** Anthropic's batch API as a BatchProviderClient. */
export class AnthropicBatchClient implements BatchProviderClient {
  readonly name: string;
  readonly #client: Anthropic;

  constructor(name: string, baseURL: string, apiKey: string) {
    this.name = name;
    this.#client = new Anthropic({ baseURL, apiKey, maxRetries: 0, fetch: providerFetch });
  }

  async submit(localBatchId: string, items: BatchItemRequest[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const invalid = invalidItems(items);
    if (invalid) throw new BatchProviderError(this.name, 'batch_invalid_items', `Cannot submit batch ${localBatchId}: ${invalid}.`, { retryable: false });
    return batchCall(this.name, async () => {
      const batch = await this.#client.messages.batches.create(
        { requests: items.map((i) => ({ custom_id: i.customId, params: messageBody(i.request) })) },
        { signal: options.signal, ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}) },
      );
      return batch.id;
    });
  }

  /**
   * Scans the batches of the last FIND_LOOKBACK_MS with as many items as `customIds`: an ended one
   * whose results name exactly those ids is ours. A running one cannot be read yet; when one such
   * could be ours and none matched, this throws `batch_find_undecided` (retryable) rather than
   * answer null and have the items submitted twice.
   */
  async find(_localBatchId: string, customIds: readonly string[]): Promise<string | null> {
    return batchCall(this.name, async () => {
      const wanted = new Set(customIds);
      const since = Date.now() - FIND_LOOKBACK_MS;
      let undecided: string | undefined;
      for await (const batch of this.#client.messages.batches.list({ limit: 100 })) {
        if (Date.parse(batch.created_at) < since) break;
        const status = anthropicStatus(batch);
        if (status.counts?.total !== wanted.size) continue;
        if (batch.processing_status !== 'ended') {
          undecided ??= batch.id;
          continue;
        }
        let same = true;
        for await (const line of await this.#client.messages.batches.results(batch.id)) {
          if (!wanted.has(line.custom_id)) {
            same = false;
            break;
          }
        }
        if (same) return batch.id;
      }
      if (undecided) throw new BatchProviderError(this.name, 'batch_find_undecided', `Batch ${undecided} is still running and may be the one sent for these items; ask again once it ends.`, { retryable: true });
      return null;
    });
  }

  async status(providerBatchId: string): Promise<BatchStatus> {
    return batchCall(this.name, async () => anthropicStatus(await this.#client.messages.batches.retrieve(providerBatchId)));
  }

  async results(providerBatchId: string, customIds: readonly string[]): Promise<BatchItemOutcome[]> {
    return batchCall(this.name, async () => {
      const batch = await this.#client.messages.batches.retrieve(providerBatchId);
      const { state } = anthropicStatus(batch);
      if (state === 'in_progress') throw new BatchProviderError(this.name, 'batch_not_ended', `Batch ${providerBatchId} is still ${batch.processing_status}.`, { retryable: true });
      const outcomes: BatchItemOutcome[] = [];
      for await (const line of await this.#client.messages.batches.results(providerBatchId)) outcomes.push(anthropicLineOutcome(this.name, line));
      return collectOutcomes(customIds, outcomes, state);
    });
  }
}
