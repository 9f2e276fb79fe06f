/** The errors the pipeline's steps use to tell the job runner what happened. */
import { GatewayError } from '../errors/index.ts';
import type { ReserveRefused } from '../budget/budgetStore.ts';

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

/** The budget cannot afford the job; `policy` says what to do about it. */
export class BudgetRefusedError extends GatewayError {
  readonly refused: ReserveRefused;
  readonly policy: 'reject' | 'defer' | 'downgrade';
  constructor(refused: ReserveRefused, policy: 'reject' | 'defer' | 'downgrade') {
    super('budget_exhausted', `The ${refused.window === 'month' ? 'monthly' : 'daily'} budget cannot afford this job.`, { status: 429 });
    this.refused = refused;
    this.policy = policy;
  }
}

/** A provider's rate limit needs a longer wait than is worth holding a worker slot for. */
export class RateLimitWaitError extends GatewayError {
  readonly waitMs: number;
  constructor(provider: string, waitMs: number) {
    super('provider_rate_limited', `The ${provider} rate limit is reached; the job waits ${waitMs} ms in the queue.`, { status: 429 });
    this.waitMs = waitMs;
  }
}

/**
 * The run was aborted by its job's signal (the worker is shutting down): the job goes back to the
 * queue. `midCall` when a provider call was out at that moment: the provider may bill it.
 */
export class RunAbortedError extends GatewayError {
  readonly midCall: boolean;
  constructor(midCall: boolean, cause: unknown) {
    super('run_aborted', `The worker stopped this run${midCall ? ' during a provider call' : ''} (it is shutting down); the job goes back to the queue.`, { status: 503, cause });
    this.midCall = midCall;
  }
}
