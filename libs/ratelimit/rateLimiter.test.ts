import { describe, expect, test } from 'vitest';
import { rateLimitedError } from './rateLimiter.ts';

describe('rateLimitedError', () => {
  test('answers 429 rate_limited with Retry-After in whole seconds, at least 1', () => {
    expect([rateLimitedError(1).retryAfterSeconds, rateLimitedError(1000).retryAfterSeconds, rateLimitedError(1001).retryAfterSeconds]).toEqual([1, 1, 2]);
    expect([rateLimitedError(5).code, rateLimitedError(5).status]).toEqual(['rate_limited', 429]);
  });
});
