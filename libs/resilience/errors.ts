import { isTaskCancelledError } from 'cockatiel';
import { GatewayError } from '../errors/index.ts';
import { classifyProviderError, type ErrorClass } from '../providers/classify.ts';
import type { BreakerState } from './sharedBreaker.ts';

const brand = Symbol.for('llm-gateway.CircuitOpenError');

/**
 * Thrown instead of calling a provider whose shared breaker is open (or half-open with its one
 * trial already out). Retryable for the queue and the failover chain; never retried in the call.
 */
export class CircuitOpenError extends GatewayError {
  readonly [brand] = true;
  readonly provider: string;
  readonly breakerState: BreakerState;
  /** Epoch milliseconds when the breaker may let a call through again. */
  readonly retryAtMs: number;

  /** `cause` is the provider error of the previous try when the breaker opened during retries. */
  constructor(provider: string, breakerState: BreakerState, retryAtMs: number, now: number = Date.now(), cause?: unknown) {
    super('provider_circuit_open', `The circuit breaker of provider "${provider}" is ${breakerState.replace('_', '-')}.`, {
      status: 503,
      retryAfterSeconds: Math.max(1, Math.ceil((retryAtMs - now) / 1000)),
      cause,
    });
    this.name = 'CircuitOpenError';
    this.provider = provider;
    this.breakerState = breakerState;
    this.retryAtMs = retryAtMs;
  }
}

/** True for any CircuitOpenError, even one created by another copy of this module. */
export function isCircuitOpenError(e: unknown): e is CircuitOpenError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}

/**
 * classifyProviderError, extended with what the resilience layer itself throws: an open circuit
 * (`provider_circuit_open`, retryable, retryAfterMs until the breaker may half-open) and cockatiel's
 * TaskCancelledError from the call timeout (`provider_timeout`, retryable). `now` is epoch ms.
 */
export function classifyResilienceError(error: unknown, now: number = Date.now()): ErrorClass {
  if (isCircuitOpenError(error)) {
    return { retryable: true, code: 'provider_circuit_open', status: 0, retryAfterMs: Math.max(0, error.retryAtMs - now) };
  }
  if (isTaskCancelledError(error)) {
    return { retryable: true, code: 'provider_timeout', status: 0, retryAfterMs: undefined };
  }
  return classifyProviderError(error);
}
