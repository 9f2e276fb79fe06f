import { setTimeout as delay } from 'node:timers/promises';
import { timeout, TimeoutStrategy } from 'cockatiel';
import type { ProviderSettings } from '../config/types.ts';
import { retryDelayMs } from './backoff.ts';
import { CircuitOpenError, classifyResilienceError } from './errors.ts';
import type { BreakerGate, BreakerOutcome, BreakerPermit, BreakerState, SharedBreaker } from './sharedBreaker.ts';

/** Extra milliseconds a half-open trial token outlives the call timeout: the record round trip and clock skew between hosts. */
export const TRIAL_GRACE_MS = 1000;

/** One provider call as seen by metrics and the job's attempt list. */
export interface AttemptReport {
  provider: string;
  /** HTTP status; 200 on success, 0 when no answer came (timeout, connection error). */
  status: number;
  /** Stable code from classifyResilienceError; absent on success. */
  errorCode?: string;
  /** Milliseconds from sending the request to its answer or failure. */
  latencyMs: number;
}

/** Optional hooks and test seams of callWithResilience. */
export interface CallHooks {
  /** Called after every call to the provider, successful or not. */
  onAttempt?(attempt: AttemptReport): void;
  /** Called when recording an outcome in the breaker failed; the call's own result still stands. */
  onBreakerError?(error: unknown): void;
  /** Waits between retries. Default: a timer that the `signal` cancels. */
  sleep?(ms: number): Promise<void>;
  /** Random source in [0, 1) for the backoff jitter. Default Math.random. */
  random?(): number;
  /** Epoch milliseconds, for the retry-after of an open circuit. Default Date.now. */
  now?(): number;
  /** Aborts the whole call (e.g. on shutdown): the request in flight is aborted and nothing is retried. */
  signal?: AbortSignal;
  /**
   * Runs before every try, retries included, outside the timeout (e.g. a rate limit that may
   * wait); its errors propagate as they are. It may take the breaker's permit itself through
   * `gate`, in the same round trip as its own check, and answer it; when it answers none, the
   * breaker is asked next.
   */
  beforeTry?(gate: BreakerGate): Promise<BreakerPermit | undefined | void>;
}

/**
 * Calls a provider through its policy: shared circuit breaker, per-call timeout, and retries with
 * jittered backoff that honours `retry-after`.
 *
 * Each try acquires the breaker (through `hooks.beforeTry` when it takes the permit with its own
 * check; refused: throws CircuitOpenError at once, for failover or the queue), runs `fn` under
 * `settings.timeout_ms`, and records the outcome (a success without waiting): retryable errors are
 * breaker failures; fatal ones (a 400 is our bug, not the provider's) are neither success nor
 * failure, and are rethrown without a retry. Retryable errors are retried up to
 * `settings.retry.max_retries` times; after that, or when the provider asks for a wait longer than
 * `max_retry_after_ms`, the last error is rethrown (classify it with classifyResilienceError). When
 * the breaker opens during the retries, a CircuitOpenError is thrown with the last error as `cause`.
 *
 * `fn` must hand its AbortSignal to the SDK so that a timed-out HTTP request is really aborted.
 *
 * Why a loop and not cockatiel's `retry()`: its backoff cannot say "give up now" when retry-after
 * is too long, its delay timer cannot be replaced by a test clock, and the breaker must be asked
 * before every try anyway. The timeout is cockatiel's, Aggressive: the signal given to `fn` is
 * aborted at the deadline (or when `hooks.signal` aborts) and the call fails then even if the SDK
 * is slow to notice the abort; a call that has returned or failed leaves its signal alone.
 */
export async function callWithResilience<T>(
  provider: string,
  settings: ProviderSettings,
  breaker: SharedBreaker,
  fn: (signal: AbortSignal) => Promise<T>,
  hooks: CallHooks = {},
): Promise<T> {
  const random = hooks.random ?? Math.random;
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? ((ms: number) => delay(ms, undefined, { signal: hooks.signal }));
  // Not aborted on return: by then the SDK has its whole answer (or its error) and nothing listens,
  // while an abort would build a DOMException and dispatch an event on every call.
  const deadline = timeout(settings.timeout_ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });

  let lastError: unknown;
  for (let retry = 0; ; retry++) {
    hooks.signal?.throwIfAborted();
    const gate: BreakerGate = { breaker, settings: settings.breaker, trialTtlMs: settings.timeout_ms + TRIAL_GRACE_MS };
    const permit = (await hooks.beforeTry?.(gate)) ?? (await breaker.acquire(provider, gate.settings, gate.trialTtlMs));
    if (!permit.allowed) throw new CircuitOpenError(provider, permit.state, permit.retryAtMs, now(), lastError);

    const started = performance.now();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await deadline.execute(({ signal }) => fn(signal), hooks.signal) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const latencyMs = elapsed(started);
    if (outcome.ok) {
      // Not awaited: the answer matters more than the bookkeeping, and nothing here depends on the
      // breaker's next state. The record goes out now, on the connection later acquires use too.
      void record(breaker, permit, 'success', hooks);
      hooks.onAttempt?.({ provider, status: 200, latencyMs });
      return outcome.value;
    }

    // A failure is awaited: the next try must see it counted (it may open the breaker, or re-open it
    // after a failed trial), and it is off the happy path.
    const error = outcome.error;
    const cls = classifyResilienceError(error, now());
    const cancelled = hooks.signal?.aborted === true;
    const state = await record(breaker, permit, cls.retryable && !cancelled ? 'failure' : 'ignore', hooks);
    hooks.onAttempt?.({ provider, status: cls.status, errorCode: cls.code, latencyMs });
    if (cancelled || !cls.retryable || retry >= settings.retry.max_retries) throw error;
    lastError = error;
    // This failure opened the breaker: skip the wait, the next acquire refuses with the reopen time.
    if (state === 'open') continue;
    const wait = retryDelayMs(retry, settings.retry, cls.retryAfterMs, random);
    if (wait === 'give_up') throw error;
    await sleep(wait);
  }
}

// The provider's answer matters more than the breaker's bookkeeping: a failed record is reported,
// never thrown (so a record nobody awaits cannot become an unhandled rejection either).
async function record(breaker: SharedBreaker, permit: BreakerPermit, outcome: BreakerOutcome, hooks: CallHooks): Promise<BreakerState | undefined> {
  try {
    return await breaker.record(permit, outcome);
  } catch (e) {
    try {
      hooks.onBreakerError?.(e);
    } catch {
      // A broken hook must not fail the call it reports on.
    }
    return undefined;
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
