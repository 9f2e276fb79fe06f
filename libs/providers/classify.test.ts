import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, test } from 'vitest';
import { classifyProviderError, parseRetryAfter } from './classify.ts';

const apiError = (status: number, headers: Record<string, string> = {}) => ({ name: 'APIError', status, headers: new Headers(headers) });

describe('classifyProviderError', () => {
  test.each([408, 409, 429, 500, 502, 503, 529])('%i is retryable', (status) => {
    expect(classifyProviderError(apiError(status)).retryable).toBe(true);
  });

  test.each([400, 401, 403, 404, 413, 422])('%i is fatal', (status) => {
    const c = classifyProviderError(apiError(status));
    expect(c.retryable).toBe(false);
    expect(c.code).toMatch(/^provider_/);
  });

  test('429 carries its retry-after', () => {
    expect(classifyProviderError(apiError(429, { 'retry-after': '2' }))).toEqual({
      retryable: true,
      code: 'provider_rate_limited',
      status: 429,
      retryAfterMs: 2000,
    });
  });

  test('timeouts and connection errors are retryable with status 0', () => {
    expect(classifyProviderError({ name: 'APIConnectionTimeoutError' })).toMatchObject({ retryable: true, code: 'provider_timeout', status: 0 });
    expect(classifyProviderError({ name: 'APIConnectionError' })).toMatchObject({ retryable: true, code: 'provider_connection_error' });
  });

  test("the SDKs' own error classes, whose name stays 'Error', are told apart by their class", () => {
    for (const sdk of [OpenAI, Anthropic]) {
      expect(classifyProviderError(new sdk.APIConnectionTimeoutError())).toMatchObject({ retryable: true, code: 'provider_timeout' });
      expect(classifyProviderError(new sdk.APIConnectionError({ cause: new Error('refused') }))).toMatchObject({ retryable: true, code: 'provider_connection_error' });
    }
    expect(classifyProviderError(new Error('unknown'))).toMatchObject({ retryable: true, code: 'provider_error' });
  });
});

describe('parseRetryAfter', () => {
  test('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after-ms': '150' }))).toBe(150);
    expect(parseRetryAfter({ 'retry-after': new Date(10_000).toUTCString() }, 4000)).toBe(6000);
    expect(parseRetryAfter({})).toBeUndefined();
  });
});
