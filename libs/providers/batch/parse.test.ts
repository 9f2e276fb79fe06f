import { describe, expect, test } from 'vitest';
import { anthropicLineOutcome, anthropicStatus, collectOutcomes, invalidItems, jsonLines, missingOutcome, openAiLineOutcome, openAiStatus } from './parse.ts';
import { openAiInputFile } from './openai.ts';

const completion = (extra: Record<string, unknown> = {}) => ({
  id: 'c',
  object: 'chat.completion',
  model: 'gpt-4-0613',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Plan.' }, finish_reason: 'length' }],
  usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } },
  ...extra,
});
const message = (usage: Record<string, number> = { input_tokens: 9, output_tokens: 2 }) => ({
  id: 'm', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'Plan.' }], stop_reason: 'max_tokens', stop_sequence: null, usage,
});
const request = { model: 'gpt-4', system: 's', user: 'u', maxOutputTokens: 50, temperature: 0.4 };

describe('invalidItems', () => {
  test('accepts unique well-formed ids, refuses empty, malformed, too long and repeated ones', () => {
    expect(invalidItems([{ customId: 'job_1-A', request }])).toBeNull();
    expect(invalidItems([])).toMatch(/at least one/);
    expect(invalidItems([{ customId: 'a.b', request }])).toMatch(/must match/);
    expect(invalidItems([{ customId: 'x'.repeat(65), request }])).toMatch(/must match/);
    expect(invalidItems([{ customId: 'a', request }, { customId: 'a', request }])).toMatch(/twice/);
  });
});

describe('statuses', () => {
  test.each([
    ['validating', 'in_progress'], ['in_progress', 'in_progress'], ['finalizing', 'in_progress'], ['cancelling', 'in_progress'],
    ['completed', 'ended'], ['expired', 'expired'], ['failed', 'failed'], ['cancelled', 'cancelled'],
  ] as const)('OpenAI %s is %s', (status, state) => {
    expect(openAiStatus({ id: 'b', status, request_counts: { total: 3, completed: 2, failed: 1 } })).toEqual({ providerBatchId: 'b', state, counts: { done: 2, failed: 1, total: 3 } });
  });
  const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  test('Anthropic: running, ended, expired, cancelled', () => {
    const of = (processing_status: 'in_progress' | 'canceling' | 'ended', c: Partial<typeof counts>, cancel: string | null = null) =>
      anthropicStatus({ id: 'm', processing_status, request_counts: { ...counts, ...c }, cancel_initiated_at: cancel }).state;
    expect(of('in_progress', { processing: 2 })).toBe('in_progress');
    expect(of('canceling', { processing: 2 }, 'now')).toBe('in_progress');
    expect(of('ended', { succeeded: 1, errored: 1 })).toBe('ended');
    expect(of('ended', { expired: 2 })).toBe('expired');
    expect(of('ended', { succeeded: 1, expired: 1 })).toBe('ended');
    expect(of('ended', { canceled: 2 }, 'now')).toBe('cancelled');
    expect(anthropicStatus({ id: 'm', processing_status: 'ended', request_counts: { ...counts, succeeded: 3, errored: 1, expired: 1 }, cancel_initiated_at: null }).counts).toEqual({ done: 3, failed: 2, total: 5 });
  });
});

describe('OpenAI lines', () => {
  test('a 200 line is normalised as the realtime adapter does', () => {
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: { status_code: 200, body: completion() } })).toEqual({
      customId: 'a', kind: 'succeeded', result: { text: 'Plan.', model: 'gpt-4-0613', inputTokens: 10, outputTokens: 3, cachedInputTokens: 4, finishReason: 'length' },
    });
  });
  test('an incomplete answer is errored provider_malformed_response; error statuses are classified', () => {
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: { status_code: 200, body: completion({ usage: undefined }) } })).toMatchObject({ kind: 'errored', code: 'provider_malformed_response' });
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: { status_code: 429, body: { error: { message: 'slow down' } } } })).toEqual({ customId: 'a', kind: 'errored', code: 'provider_rate_limited', message: 'slow down' });
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: { status_code: 400, body: {} } })).toMatchObject({ code: 'provider_bad_request' });
  });
  test('batch_expired and batch_cancelled lines, and lines without a custom id', () => {
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: null, error: { code: 'batch_expired', message: 'late' } })).toMatchObject({ kind: 'expired', code: 'batch_expired' });
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: null, error: { code: 'batch_cancelled', message: 'x' } })).toMatchObject({ kind: 'cancelled', code: 'batch_cancelled' });
    expect(openAiLineOutcome('openai', { custom_id: 'a', response: null, error: { code: 'weird', message: 'x' } })).toMatchObject({ kind: 'errored', code: 'provider_error' });
    expect(openAiLineOutcome('openai', { response: { status_code: 200, body: completion() } })).toBeUndefined();
  });
  test('jsonLines skips blank and broken lines', () => {
    expect(jsonLines('{"a":1}\n\nnot json\n[1]\n{"b":2}\n')).toEqual([{ a: 1 }, { b: 2 }]);
  });
  test('the input file sends the realtime body for each item', () => {
    const [line] = openAiInputFile([{ customId: 'a', request: { ...request, topP: 0.9, stop: ['END'] } }]).trim().split('\n');
    expect(JSON.parse(line!)).toEqual({
      custom_id: 'a', method: 'POST', url: '/v1/chat/completions',
      body: { model: 'gpt-4', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }], max_completion_tokens: 50, temperature: 0.4, top_p: 0.9, stop: ['END'] },
    });
  });
});

describe('Anthropic lines', () => {
  test('succeeded: finish reason and usage with cache tokens, as realtime', () => {
    const line = { custom_id: 'a', result: { type: 'succeeded' as const, message: message({ input_tokens: 9, output_tokens: 2, cache_read_input_tokens: 5, cache_creation_input_tokens: 1 }) as never } };
    expect(anthropicLineOutcome('anthropic', line)).toEqual({
      customId: 'a', kind: 'succeeded', result: { text: 'Plan.', model: 'claude-x', inputTokens: 15, outputTokens: 2, cachedInputTokens: 5, finishReason: 'length' },
    });
  });
  test('errored by type, canceled, expired, incomplete', () => {
    const errored = (type: string) => anthropicLineOutcome('anthropic', { custom_id: 'a', result: { type: 'errored', error: { type: 'error', error: { type, message: 'no' }, request_id: null } as never } });
    expect(errored('overloaded_error')).toMatchObject({ kind: 'errored', code: 'provider_overloaded', message: 'no' });
    expect(errored('invalid_request_error')).toMatchObject({ code: 'provider_bad_request' });
    expect(errored('api_error')).toMatchObject({ code: 'provider_unavailable' });
    expect(anthropicLineOutcome('anthropic', { custom_id: 'a', result: { type: 'canceled' } })).toMatchObject({ kind: 'cancelled', code: 'batch_cancelled' });
    expect(anthropicLineOutcome('anthropic', { custom_id: 'a', result: { type: 'expired' } })).toMatchObject({ kind: 'expired', code: 'batch_expired' });
    const empty = { ...message(), content: [] };
    expect(anthropicLineOutcome('anthropic', { custom_id: 'a', result: { type: 'succeeded', message: empty as never } })).toMatchObject({ kind: 'errored', code: 'provider_malformed_response' });
  });
});

describe('collectOutcomes', () => {
  test('in the submitted order; a missing line is expired, or cancelled/failed by the batch state; extra lines are ignored', () => {
    const done = { customId: 'b', kind: 'cancelled' as const, code: 'batch_cancelled', message: '' };
    const stray = { customId: 'zz', kind: 'expired' as const, code: 'batch_expired', message: '' };
    expect(collectOutcomes(['a', 'b'], [done, undefined, stray], 'ended').map((o) => [o.customId, o.kind])).toEqual([['a', 'expired'], ['b', 'cancelled']]);
    expect(collectOutcomes(['a'], [], 'cancelled')[0]).toMatchObject({ kind: 'cancelled' });
    expect(collectOutcomes(['a'], [], 'failed', 'bad file')[0]).toEqual(missingOutcome('a', 'failed', 'bad file'));
    expect(missingOutcome('a', 'failed', 'bad file')).toMatchObject({ kind: 'errored', code: 'batch_failed', message: expect.stringContaining('bad file') });
  });
});
