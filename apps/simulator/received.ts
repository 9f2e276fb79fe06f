/**
 * What each provider received, call by call: the generation parameters normalised across the two
 * wire formats, so a test can prove both arms of an experiment were asked the same way.
 */
import type { Provider } from './knobs.ts';

/** Generation parameters as a provider received them, in one shape for both wire formats. */
export interface GenerationReceived {
  /** The system prompt: OpenAI's system/developer messages joined, or Anthropic's `system`. */
  system: string;
  /** The user messages' text, joined by newlines. */
  user: string;
  /** null when the request left it out (the provider's default applies). */
  temperature: number | null;
  /** null when the request left it out. */
  top_p: number | null;
  /** OpenAI `max_completion_tokens` (else `max_tokens`), Anthropic `max_tokens`; null when absent. */
  max_tokens: number | null;
  /** OpenAI `stop` (a string becomes one item), Anthropic `stop_sequences`; [] when absent. */
  stop: string[];
}

/** One received call: GET /admin/calls/received lists these, oldest first. */
export interface ReceivedCall extends GenerationReceived {
  provider: Provider;
  model: string;
  /** The `x-gateway-job-id` header; null when absent. */
  job_id: string | null;
  /** Arrival, epoch ms. */
  at: number;
}

/** The body of GET /admin/calls/received. */
export interface CallsReceived {
  calls: ReceivedCall[];
}

/** Calls remembered at most (the oldest dropped first): prompts are kept whole, so memory stays bounded. @defaultValue 2000 */
export const MAX_RECEIVED_CALLS = 2000;

/** The last calls received, in arrival order. */
export class ReceivedLog {
  private calls: ReceivedCall[] = [];
  private readonly capacity: number;

  /** Keeps the last `capacity` calls. @defaultValue MAX_RECEIVED_CALLS */
  constructor(capacity = MAX_RECEIVED_CALLS) {
    this.capacity = capacity;
  }

  /** Records one valid request. */
  record(call: ReceivedCall): void {
    this.calls.push(call);
    // Trimmed in batches so a long benchmark does not shift the array on every call.
    if (this.calls.length > this.capacity * 1.25) this.calls = this.calls.slice(-this.capacity);
  }

  /** A copy of the last calls, oldest first. */
  snapshot(): CallsReceived {
    return { calls: this.calls.slice(-this.capacity).map((c) => ({ ...c, stop: [...c.stop] })) };
  }

  /** Forgets every call. */
  reset(): void {
    this.calls = [];
  }
}
