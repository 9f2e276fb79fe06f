/** One interface in front of every provider's SDK. */

export interface CompletionRequest {
  model: string;
  system: string;
  user: string;
  /** Upper bound on output tokens. */
  maxOutputTokens: number;
  /** Sampling temperature, 0-2; sent to every provider so that no arm runs at its provider's default. */
  temperature: number;
  /** Nucleus sampling mass, 0-1; left out when undefined (the provider's default, 1). @defaultValue undefined */
  topP?: number;
  /** Sequences that end the answer (OpenAI `stop`, Anthropic `stop_sequences`); none when empty. @defaultValue [] */
  stop?: readonly string[];
  /** Sent as `x-gateway-job-id` so the provider side (the simulator) can count calls per job. */
  jobId: string;
  /** Aborts the HTTP request. */
  signal?: AbortSignal;
  /** Milliseconds before the SDK aborts the request. */
  timeoutMs: number;
}

/** The generation fields of a request, without transport options: what realtime and batch calls send alike. */
export type CompletionBodyInput = Omit<CompletionRequest, 'signal' | 'timeoutMs' | 'jobId'>;

export interface CompletionResult {
  text: string;
  /** The model the provider says answered (may be a dated version of the requested one). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Input tokens the provider served from its prompt cache, when it reports them. */
  cachedInputTokens: number;
  /** Normalised: 'stop' for a natural end, 'length' when cut at the token limit, else the provider's word. */
  finishReason: string;
}

export interface ProviderClient {
  readonly name: string;
  complete(request: CompletionRequest): Promise<CompletionResult>;
}
