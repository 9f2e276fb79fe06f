/**
 * An answer the gateway must not store as a success: no text, or no usage to bill it by. The
 * classifier treats it as retryable (`provider_malformed_response`), so it is retried or failed
 * over like any other provider fault. Truncated answers are not errors: they are kept and flagged.
 */
export class IncompleteAnswerError extends Error {
  override readonly name = 'IncompleteAnswerError';
  readonly provider: string;
  constructor(provider: string, what: string) {
    super(`${provider} returned an incomplete answer: ${what}`);
    this.provider = provider;
  }
}

/** The fields of a provider answer that completeness depends on. */
export interface AnswerShape {
  text: string | null | undefined;
  usage: { input: number | null | undefined; output: number | null | undefined } | null | undefined;
}

/** Throws IncompleteAnswerError unless the answer has text and both token counts. */
export function assertComplete(provider: string, answer: AnswerShape): void {
  if (typeof answer.text !== 'string' || answer.text.length === 0) throw new IncompleteAnswerError(provider, 'no text');
  const { usage } = answer;
  if (!usage || typeof usage.input !== 'number' || typeof usage.output !== 'number' || usage.output <= 0) {
    throw new IncompleteAnswerError(provider, 'no usage reported');
  }
}
