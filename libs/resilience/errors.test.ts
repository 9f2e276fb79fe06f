import { describe, expect, test } from 'vitest';
import { TaskCancelledError } from 'cockatiel';
import { isGatewayError } from '../errors/index.ts';
import { CircuitOpenError, classifyResilienceError, isCircuitOpenError } from './errors.ts';
import { snapshot } from './sharedBreaker.ts';

describe('classifyResilienceError', () => {
  test('an open circuit is retryable, with the wait until the breaker may half-open', () => {
    const e = new CircuitOpenError('openai', 'open', 12_500, 10_000);
    expect(classifyResilienceError(e, 10_000)).toEqual({ retryable: true, code: 'provider_circuit_open', status: 0, retryAfterMs: 2_500 });
    expect(isCircuitOpenError(e)).toBe(true);
    expect(isGatewayError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'provider_circuit_open', status: 503, retryAfterSeconds: 3, provider: 'openai' });
  });

  test("cockatiel's TaskCancelledError is a provider timeout", () => {
    expect(classifyResilienceError(new TaskCancelledError('Operation timed out after 50ms'))).toMatchObject({ retryable: true, code: 'provider_timeout' });
  });

  test('anything else is classified by classifyProviderError', () => {
    expect(classifyResilienceError(Object.assign(new Error('x'), { status: 400 }))).toMatchObject({ retryable: false, code: 'provider_bad_request' });
    expect(classifyResilienceError(Object.assign(new Error('x'), { status: 529 }))).toMatchObject({ retryable: true, code: 'provider_overloaded' });
    expect(isCircuitOpenError(new Error('x'))).toBe(false);
  });
});

describe('snapshot', () => {
  test('reads stored fields; an open breaker past its wait reads half_open', () => {
    expect(snapshot(null, null, null, 0)).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(snapshot('open', '100', '5', 99)).toEqual({ state: 'open', openUntil: 100, consecutiveFailures: 5 });
    expect(snapshot('open', '100', '5', 100)).toEqual({ state: 'half_open', consecutiveFailures: 5 });
    expect(snapshot('half_open', '100', '5', 50)).toEqual({ state: 'half_open', consecutiveFailures: 5 });
  });
});
