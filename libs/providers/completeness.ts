/**
 * An answer the gateway must not store as a success: no text, or no usage to bill it by. The
 * classifier treats it as retryable (`provider_malformed_response`), so it is retried or failed
 * over like any other provider fault. Truncated answers are not errors: they are kept and flagged.
 */
export class IncompleteAnswerError extends Error {
  override readonly name = 'IncompleteAnswerError';
  readonly provider: string;
  /** The tokens the provider reported for it, when it did: it bills them even for an unusable answer. */
  readonly usage: { inputTokens: number; outputTokens: number } | undefined;
  constructor(provider: string, what: string, usage?: { inputTokens: number; outputTokens: number }) {
    super(`${provider} returned an incomplete answer: ${what}`);
    this.provider = provider;
    this.usage = usage;
  }
}

/** The fields of a provider answer that completeness depends on. */
export interface AnswerShape {
  text: string | null | undefined;
  usage: { input: number | null | undefined; output: number | null | undefined } | null | undefined;
}

/** Throws IncompleteAnswerError unless the answer has text and both token counts. */
export function assertComplete(provider: string, answer: AnswerShape): void {
  const { usage } = answer;
  const billed = usage && typeof usage.input === 'number' && typeof usage.output === 'number' ? { inputTokens: usage.input, outputTokens: usage.output } : undefined;
  if (typeof answer.text !== 'string' || answer.text.length === 0) throw new IncompleteAnswerError(provider, 'no text', billed);
  if (!billed || billed.outputTokens <= 0) throw new IncompleteAnswerError(provider, 'no usage reported');
}
