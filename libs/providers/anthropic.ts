import Anthropic from '@anthropic-ai/sdk';
import { assertComplete } from './completeness.ts';
import { providerFetch } from './transport.ts';
import type { CompletionBodyInput, CompletionRequest, CompletionResult, ProviderClient } from './types.ts';

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length' };

/** The Messages body of a request; the batch lane sends the same params, so it costs the same tokens. */
export function messageBody(req: CompletionBodyInput): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: req.model,
    system: req.system,
    messages: [{ role: 'user', content: req.user }],
    max_tokens: req.maxOutputTokens,
    ...(req.stop && req.stop.length > 0 ? { stop_sequences: [...req.stop] } : {}),
    // Left out of the SDK's 1.x params type, still read by the Messages API: without them
    // Claude would sample at its default temperature 1.0 while the other arm runs at ours.
    ...({ temperature: req.temperature, ...(req.topP !== undefined ? { top_p: req.topP } : {}) } as object),
  };
}

/** A message as our result; throws IncompleteAnswerError when it has no text or no usage. */
export function messageResult(provider: string, response: Anthropic.Message, requestedModel: string): CompletionResult {
  const text = (response.content ?? [])
    .map((block) => (block.type === 'text' ? block.text : ''))
    .join('');
  assertComplete(provider, { text, usage: response.usage && { input: response.usage.input_tokens, output: response.usage.output_tokens } });
  const stop = response.stop_reason ?? 'unknown';
  return {
    text,
    model: response.model ?? requestedModel,
    // Anthropic's input_tokens leave out prompt-cache reads and writes; all three are billed. Cache
    // writes (1.25x) are priced as plain input: the gateway sends no cache_control, so none occur.
    inputTokens: (response.usage?.input_tokens ?? 0) + (response.usage?.cache_read_input_tokens ?? 0) + (response.usage?.cache_creation_input_tokens ?? 0),
    outputTokens: response.usage?.output_tokens ?? 0,
    cachedInputTokens: response.usage?.cache_read_input_tokens ?? 0,
    finishReason: FINISH[stop] ?? stop,
  };
}

/** Messages API through the official SDK (over providerFetch). SDK retries are off: our resilience layer retries. */
export class AnthropicProvider implements ProviderClient {
  readonly name: string;
  readonly #client: Anthropic;

  constructor(name: string, baseURL: string, apiKey: string) {
    this.name = name;
    this.#client = new Anthropic({ baseURL, apiKey, maxRetries: 0, fetch: providerFetch });
  }

  async complete(req: CompletionRequest): Promise<CompletionResult> {
    const response = await this.#client.messages.create(messageBody(req), {
      timeout: req.timeoutMs,
      signal: req.signal,
      headers: { 'x-gateway-job-id': req.jobId },
    });
    return messageResult(this.name, response, req.model);
  }
}
