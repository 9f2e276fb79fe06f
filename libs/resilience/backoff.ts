import type { RetrySettings } from '../config/types.ts';

/** Most extra milliseconds added on top of a provider's `retry-after`, so waiting workers do not return in lockstep. */
export const RETRY_AFTER_JITTER_MS = 250;

/**
 * Milliseconds to wait before retry number `retryIndex` (0-based: 0 is the wait before the second
 * call), or 'give_up' when the provider asked for a longer wait than `max_retry_after_ms`: the
 * caller then fails over or sends the job back to the queue with that delay instead of holding a
 * worker slot.
 *
 * Without `retryAfterMs`: full-jitter exponential, `random() * min(max_delay_ms,
 * initial_delay_ms * 2^retryIndex)` (AWS "Exponential Backoff and Jitter"). With it: at least the
 * provider's wait plus up to RETRY_AFTER_JITTER_MS. `random` returns [0, 1), like Math.random.
 */
export function retryDelayMs(
  retryIndex: number,
  settings: RetrySettings,
  retryAfterMs: number | undefined,
  random: () => number,
): number | 'give_up' {
  const ceiling = Math.min(settings.max_delay_ms, settings.initial_delay_ms * 2 ** Math.max(0, retryIndex));
  const exponential = Math.floor(clamp01(random()) * Math.max(0, ceiling));
  if (retryAfterMs === undefined) return exponential;
  if (retryAfterMs > settings.max_retry_after_ms) return 'give_up';
  const honoured = Math.ceil(Math.max(0, retryAfterMs) + clamp01(random()) * RETRY_AFTER_JITTER_MS);
  return Math.max(honoured, exponential);
}

// A misbehaving random source must not produce negative or unbounded waits.
function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0;
}
