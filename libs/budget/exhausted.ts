import { GatewayError } from '../errors/index.ts';

/**
 * The error of a job or submission the budget cannot afford under the `reject` policy: 429
 * `budget_exhausted`, with Retry-After in whole seconds until the refusing window ends (at least 1).
 * `retryAtMs` and `nowMs` are epoch milliseconds (ReserveRefused.retryAtMs and the caller's clock).
 */
export function budgetExhaustedError(refused: { window: 'month' | 'day'; retryAtMs: number }, nowMs: number): GatewayError {
  return new GatewayError('budget_exhausted', `The ${refused.window === 'month' ? 'monthly' : 'daily'} budget is exhausted.`, {
    status: 429,
    retryAfterSeconds: Math.max(1, Math.ceil((refused.retryAtMs - nowMs) / 1000)),
  });
}
