import { GatewayError } from '../errors/index.ts';
import type { ProviderAttempt } from '../store/types.ts';
import type { CompletionRequest, CompletionResult } from '../providers/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { SharedBreaker } from '../resilience/sharedBreaker.ts';
import { callWithResilience } from '../resilience/callPolicy.ts';
import { classifyResilienceError } from '../resilience/errors.ts';
import type { Candidate } from './route.ts';

/** Every provider of the chain failed with a retryable error (an outage, not a bad request). */
export class ProvidersUnavailableError extends GatewayError {
  /** The longest wait any provider asked for, in ms, if one did. */
  readonly retryAfterMs: number | undefined;
  constructor(lastCode: string, retryAfterMs: number | undefined, cause: unknown) {
    super('providers_unavailable', `No provider could answer (last error: ${lastCode}); the job will be retried.`, { status: 503, cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/** A provider rejected the request itself (400, 401, 404, ...): retrying or failing over will not help. */
export class ProviderRejectedError extends GatewayError {
  constructor(code: string, message: string, cause: unknown) {
    super(code, message, { status: 502, cause });
  }
}

/** What the chain needs from its process. */
export interface ChainDeps {
  providers: ProviderRegistry;
  breaker: SharedBreaker;
  /** Called before each provider is tried (rate limits); may wait, or throw to give up. */
  beforeCall?: (candidate: Candidate) => Promise<void>;
}

/**
 * Tries each candidate through its resilience policy (breaker, timeout, retries) until one
 * answers. An open breaker or an outage moves on to the next; a fatal answer stops at once.
 * Every HTTP attempt is appended to `attempts`.
 */
export async function callChain(
  chain: Candidate[],
  request: Omit<CompletionRequest, 'model' | 'timeoutMs' | 'signal'>,
  deps: ChainDeps,
  attempts: ProviderAttempt[],
): Promise<{ candidate: Candidate; index: number; result: CompletionResult }> {
  let lastError: unknown;
  let lastCode = 'no_provider_configured';
  let retryAfterMs: number | undefined;
  for (const [index, candidate] of chain.entries()) {
    // Outside the try: a rate-limit wait is not a provider failure and must not fail over.
    await deps.beforeCall?.(candidate);
    try {
      const client = deps.providers.get(candidate.provider, candidate.settings);
      const result = await callWithResilience(
        candidate.provider,
        candidate.settings,
        deps.breaker,
        (signal) => client.complete({ ...request, model: candidate.model, timeoutMs: candidate.settings.timeout_ms, signal }),
        {
          onAttempt: (a) =>
            attempts.push({ provider: a.provider, model: candidate.model, status: a.status, latencyMs: Math.round(a.latencyMs), ...(a.errorCode ? { errorCode: a.errorCode } : {}) }),
        },
      );
      return { candidate, index, result };
    } catch (error) {
      const cls = classifyResilienceError(error);
      if (cls.code === 'provider_circuit_open') attempts.push({ provider: candidate.provider, model: candidate.model, status: 0, errorCode: cls.code, latencyMs: 0 });
      if (!cls.retryable) {
        throw new ProviderRejectedError(cls.code, `${candidate.provider} refused the request (${cls.status}): ${error instanceof Error ? error.message : String(error)}`, error);
      }
      lastError = error;
      lastCode = cls.code;
      if (cls.retryAfterMs !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, cls.retryAfterMs);
    }
  }
  throw new ProvidersUnavailableError(lastCode, retryAfterMs, lastError);
}
