import OpenAI from 'openai';
import { assertComplete } from './completeness.ts';
import { providerFetch } from './transport.ts';
import type { CompletionRequest, CompletionResult, ProviderClient } from './types.ts';

/** Chat Completions through the official SDK (over providerFetch). SDK retries are off: our resilience layer retries. */
export class OpenAiProvider implements ProviderClient {
  readonly name: string;
  readonly #client: OpenAI;

  constructor(name: string, baseURL: string, apiKey: string) {
    this.name = name;
    this.#client = new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: providerFetch });
  }

  async complete(req: CompletionRequest): Promise<CompletionResult> {
    const response = await this.#client.chat.completions.create(
      {
        model: req.model,
        messages: [
          { role: 'system', content: req.system },
          { role: 'user', content: req.user },
        ],
        max_completion_tokens: req.maxOutputTokens,
        temperature: req.temperature,
        ...(req.topP !== undefined ? { top_p: req.topP } : {}),
        ...(req.stop && req.stop.length > 0 ? { stop: [...req.stop] } : {}),
      },
      { timeout: req.timeoutMs, signal: req.signal, headers: { 'x-gateway-job-id': req.jobId } },
    );
    const choice = response.choices?.[0];
    assertComplete(this.name, { text: choice?.message?.content, usage: response.usage && { input: response.usage.prompt_tokens, output: response.usage.completion_tokens } });
    return {
      text: choice?.message?.content ?? '',
      model: response.model ?? req.model,
      inputTokens: response.usage?.prompt_tokens ?? 0,
      outputTokens: response.usage?.completion_tokens ?? 0,
      cachedInputTokens: response.usage?.prompt_tokens_details?.cached_tokens ?? 0,
      finishReason: choice?.finish_reason ?? 'unknown',
    };
  }
}
