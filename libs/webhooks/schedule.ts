/** The retry schedule of webhook delivery: a pure function of the attempts made. */
import type { BackoffStrategy } from 'bullmq';

/**
 * Milliseconds to wait after failed attempt 1, 2, ...: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
 * With the first attempt that makes 8 attempts over about 27 hours (the Standard Webhooks / Svix
 * schedule), long enough to ride out a receiver's overnight outage.
 */
export const DEFAULT_WEBHOOK_DELAYS_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** Attempts per delivery by default: the first one plus one per delay. 8. */
export const DEFAULT_WEBHOOK_ATTEMPTS = DEFAULT_WEBHOOK_DELAYS_MS.length + 1;

/** The BullMQ backoff type of webhook jobs; the webhook Worker maps it to webhookBackoffMs. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook';

/** Options of webhookBackoffMs. */
export interface WebhookBackoffOptions {
  /** Delays after failed attempt 1, 2, ...; the last repeats. Default DEFAULT_WEBHOOK_DELAYS_MS. */
  delaysMs?: readonly number[];
  /** Spread each delay by up to ± this fraction. Default 0.1. */
  jitter?: number;
  /** Uniform [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Milliseconds before the next attempt, after `attemptsMade` failed attempts (1 after the first).
 * Jitter keeps the deliveries that failed together during an outage from all returning at once.
 */
export function webhookBackoffMs(attemptsMade: number, options: WebhookBackoffOptions = {}): number {
  const delays = options.delaysMs ?? DEFAULT_WEBHOOK_DELAYS_MS;
  if (delays.length === 0) return 0;
  const base = delays[Math.min(Math.max(attemptsMade, 1), delays.length) - 1]!;
  const jitter = options.jitter ?? 0.1;
  const spread = (2 * (options.random ?? Math.random)() - 1) * jitter;
  return Math.max(0, Math.round(base * (1 + spread)));
}

/** BullMQ `settings.backoffStrategy` for the webhook Worker. */
export function webhookBackoffStrategy(options: WebhookBackoffOptions = {}): BackoffStrategy {
  return (attemptsMade) => webhookBackoffMs(attemptsMade, options);
}
