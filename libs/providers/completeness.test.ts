import { describe, expect, test } from 'vitest';
import { assertComplete, IncompleteAnswerError } from './completeness.ts';
import { classifyProviderError } from './classify.ts';

describe('assertComplete', () => {
  test('accepts text with usage', () => {
    expect(() => assertComplete('openai', { text: 'plan', usage: { input: 10, output: 5 } })).not.toThrow();
  });

  test.each([
    ['no text', { text: '', usage: { input: 10, output: 5 } }],
    ['missing text', { text: undefined, usage: { input: 10, output: 5 } }],
    ['no usage', { text: 'plan', usage: undefined }],
    ['no output tokens', { text: 'plan', usage: { input: 10, output: undefined } }],
  ])('refuses %s, as a retryable malformed answer', (_name, answer) => {
    let caught: unknown;
    try {
      assertComplete('openai', answer);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(IncompleteAnswerError);
    expect(classifyProviderError(caught)).toMatchObject({ retryable: true, code: 'provider_malformed_response' });
  });
});
