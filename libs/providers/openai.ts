import OpenAI from 'openai';
import { assertComplete } from './completeness.ts';
import { providerFetch } from './transport.ts';
import type { CompletionBodyInput, CompletionRequest, CompletionResult, ProviderClient } from './types.ts';

/** The Chat Completions body of a request; the batch lane sends the same body, so it costs the same tokens. */
export function chatCompletionBody(req: CompletionBodyInput): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model: req.model,
    messages: [
      { role: 'system', content: req.system },
      { role: 'user', content: req.user },
    ],
    max_completion_tokens: req.maxOutputTokens,
    temperature: req.temperature,
    ...(req.topP !== undefined ? { top_p: req.topP } : {}),
    ...(req.stop && req.stop.length > 0 ? { stop: [...req.stop] } : {}),
  };
}

/** A chat completion as our result; throws IncompleteAnswerError when it has no text or no usage. */
export function chatCompletionResult(provider: string, response: OpenAI.ChatCompletion, requestedModel: string): CompletionResult {
  const choice = response.choices?.[0];
  assertComplete(provider, { text: choice?.message?.content, usage: response.usage && { input: response.usage.prompt_tokens, output: response.usage.completion_tokens } });
  return {
    text: choice?.message?.content ?? '',
    model: response.model ?? requestedModel,
    inputTokens: response.usage?.prompt_tokens ?? 0,
    outputTokens: response.usage?.completion_tokens ?? 0,
    cachedInputTokens: response.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    finishReason: choice?.finish_reason ?? 'unknown',
  };
}

/** Chat Completions through the official SDK (over providerFetch). SDK retries are off: our resilience layer retries. */
export class OpenAiProvider implements ProviderClient {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(name: string, baseURL: string, apiKey: string) {
    this.name = name;
    this.#client = new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: providerFetch });
  }

  async complete(req: CompletionRequest): Promise<CompletionResult> {
    const response = await this.#client.chat.completions.create(chatCompletionBody(req), {
      timeout: req.timeoutMs,
      signal: req.signal,
      headers: { 'x-gateway-job-id': req.jobId },
    });
    return chatCompletionResult(this.name, response, req.model);
  }
}
