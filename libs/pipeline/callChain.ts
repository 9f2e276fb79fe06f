import { ProviderRejectedError, ProvidersUnavailableError, RateLimitWaitError, RunAbortedError } from './errors.ts';
import { IncompleteAnswerError } from '../providers/completeness.ts';
import type { ProviderAttempt } from '../store/types.ts';
import type { CompletionRequest, CompletionResult } from '../providers/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { BreakerGate, BreakerPermit, SharedBreaker } from '../resilience/sharedBreaker.ts';
import { callWithResilience } from '../resilience/callPolicy.ts';
import { classifyResilienceError } from '../resilience/errors.ts';
import type { Candidate } from './route.ts';
import type { PipelineMetrics } from '../telemetry/metrics/sink.ts';

/** What the chain needs from its process. */
export interface ChainDeps {
  providers: ProviderRegistry;
  breaker: SharedBreaker;
  /**
   * Called before every try of a provider, retries included (rate limits); may wait, or throw
   * RateLimitWaitError. It may take the breaker's permit in the same round trip through `gate` and
   * answer it (see CallHooks.beforeTry).
   */
  beforeTry?: (candidate: Candidate, gate: BreakerGate) => Promise<BreakerPermit | undefined | void>;
  /**
   * Called with each answer that came back but is unusable (no text or no usage): the provider
   * was paid for it all the same, and the caller must count it.
   */
  onPaidIncomplete?: (candidate: Candidate, usage: { inputTokens: number; outputTokens: number } | undefined) => void;
  /** Aborts the chain (the worker is shutting down): the call in flight is aborted, nothing else is tried. @defaultValue none */
  signal?: AbortSignal;
  /** Hears of every HTTP call made. @defaultValue none */
  metrics?: PipelineMetrics;
}

/**
 * Tries each candidate through its resilience policy (breaker, timeout, retries) until one
 * answers. An open breaker or an outage moves on to the next; a fatal answer stops at once.
 * Every HTTP attempt is appended to `attempts`. Once `deps.signal` aborts, throws RunAbortedError,
 * telling whether a call was out at that moment.
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
  const { signal } = deps;
  // Whether a request was out when the signal aborted: the provider may have answered and billed it.
  let callsOut = 0;
  let midCall = false;
  const onAbort = () => (midCall = callsOut > 0);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (const [index, candidate] of chain.entries()) {
      try {
        const client = deps.providers.get(candidate.provider, candidate.settings);
        const result = await callWithResilience(
          candidate.provider,
          candidate.settings,
          deps.breaker,
          async (callSignal) => {
            callsOut++;
            try {
              return await client.complete({ ...request, model: candidate.model, timeoutMs: candidate.settings.timeout_ms, signal: callSignal });
            } catch (error) {
              // A body that parsed but is unusable, or that did not parse (the SDK throws SyntaxError only
              // for a 2xx body): the provider answered, so assume it billed.
              if (error instanceof IncompleteAnswerError) deps.onPaidIncomplete?.(candidate, error.usage);
              else if (error instanceof SyntaxError) deps.onPaidIncomplete?.(candidate, undefined);
              throw error;
            } finally {
              callsOut--;
            }
          },
          {
            signal,
            ...(deps.beforeTry ? { beforeTry: (gate: BreakerGate) => deps.beforeTry!(candidate, gate) } : {}),
            onAttempt: (a) => {
              attempts.push({ provider: a.provider, model: candidate.model, status: a.status, latencyMs: Math.round(a.latencyMs), ...(a.errorCode ? { errorCode: a.errorCode } : {}) });
              deps.metrics?.providerCall({ provider: a.provider, model: candidate.model, outcome: a.errorCode ? 'error' : 'success', code: a.errorCode ?? '', seconds: a.latencyMs / 1000 });
            },
          },
        );
        return { candidate, index, result };
      } catch (error) {
        if (signal?.aborted) throw new RunAbortedError(midCall, error);
        // A rate-limit wait is not a provider failure: the job waits in the queue, it does not fail over.
        if (error instanceof RateLimitWaitError) throw error;
        const cls = classifyResilienceError(error);
        if (cls.code === 'provider_circuit_open') attempts.push({ provider: candidate.provider, model: candidate.model, status: 0, errorCode: cls.code, latencyMs: 0 });
        if (!cls.retryable) {
          // The provider's own words help with a bad request, but a credential error may echo (part of) our key.
          const detail = cls.status === 401 || cls.status === 403 ? 'the gateway operators must check its API key' : error instanceof Error ? error.message : String(error);
          throw new ProviderRejectedError(cls.code, `${candidate.provider} refused the request (${cls.status}): ${detail}`, error);
        }
        lastError = error;
        lastCode = cls.code;
        // Only a provider's own retry-after counts: an open breaker's reopen time is our guess, and
        // waiting for it would hold jobs back from the cached and degraded fallbacks.
        if (cls.retryAfterMs !== undefined && cls.code !== 'provider_circuit_open') retryAfterMs = Math.max(retryAfterMs ?? 0, cls.retryAfterMs);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  throw new ProvidersUnavailableError(lastCode, retryAfterMs, lastError);
}
