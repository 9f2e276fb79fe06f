/**
 * The OpenAI Batch API through the official SDK (over providerFetch, SDK retries off): items go up
 * as one JSONL file of Chat Completions requests, the batch carries our id in its metadata.
 */
import OpenAI, { toFile } from 'openai';
import { chatCompletionBody } from '../openai.ts';
import { providerFetch } from '../transport.ts';
import { collectOutcomes, invalidItems, jsonLines, openAiLineOutcome, openAiStatus } from './parse.ts';
import { batchCall, BatchProviderError, type BatchItemOutcome, type BatchItemRequest, type BatchProviderClient, type BatchStatus } from './types.ts';

/** The metadata key that carries our local batch id. */
export const LOCAL_BATCH_KEY = 'local_batch_id';

/** How far back `find` scans, in ms: a batch lives 24 h at most, so two days cover any recovery. @defaultValue 172800000 */
export const FIND_LOOKBACK_MS = 48 * 60 * 60 * 1000;

/** The JSONL input file of a batch: one Chat Completions request per line, the same body a realtime call sends. */
export function openAiInputFile(items: readonly BatchItemRequest[]): string {
  return items.map((i) => JSON.stringify({ custom_id: i.customId, method: 'POST', url: '/v1/chat/completions', body: chatCompletionBody(i.request) })).join('\n') + '\n';
}

/** OpenAI's batch API as a BatchProviderClient. */
export class OpenAiBatchClient implements BatchProviderClient {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(name: string, baseURL: string, apiKey: string) {
    this.name = name;
    this.#client = new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: providerFetch });
  }

  async submit(localBatchId: string, items: BatchItemRequest[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string> {
    const invalid = invalidItems(items);
    if (invalid) throw new BatchProviderError(this.name, 'batch_invalid_items', `Cannot submit batch ${localBatchId}: ${invalid}.`, { retryable: false });
    const requestOptions = { signal: options.signal, ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}) };
    return batchCall(this.name, async () => {
      const file = await this.#client.files.create({ file: await toFile(Buffer.from(openAiInputFile(items)), `${localBatchId}.jsonl`), purpose: 'batch' }, requestOptions);
      const batch = await this.#client.batches.create(
        { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { [LOCAL_BATCH_KEY]: localBatchId } },
        requestOptions,
      );
      return batch.id;
    });
  }

  async find(localBatchId: string): Promise<string | null> {
    return batchCall(this.name, async () => {
      const since = Math.floor((Date.now() - FIND_LOOKBACK_MS) / 1000);
      // Newest first: stop at the first batch older than the lookback.
      for await (const batch of this.#client.batches.list({ limit: 100 })) {
        if (batch.created_at < since) return null;
        if (batch.metadata?.[LOCAL_BATCH_KEY] === localBatchId) return batch.id;
      }
      return null;
    });
  }

  async status(providerBatchId: string): Promise<BatchStatus> {
    return batchCall(this.name, async () => openAiStatus(await this.#client.batches.retrieve(providerBatchId)));
  }

  async results(providerBatchId: string, customIds: readonly string[]): Promise<BatchItemOutcome[]> {
    return batchCall(this.name, async () => {
      const batch = await this.#client.batches.retrieve(providerBatchId);
      const { state } = openAiStatus(batch);
      if (state === 'in_progress') throw new BatchProviderError(this.name, 'batch_not_ended', `Batch ${providerBatchId} is still ${batch.status}.`, { retryable: true });
      const lines: Record<string, unknown>[] = [];
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (fileId) lines.push(...jsonLines(await (await this.#client.files.content(fileId)).text()));
      }
      const failure = batch.errors?.data?.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}`).join('; ');
      return collectOutcomes(customIds, lines.map((l) => openAiLineOutcome(this.name, l)), state, failure);
    });
  }
}
