import { describe, expect, it } from 'vitest';
import { errorReply, limitAnswer, parseRequest, successReply } from './wire.ts';

describe('parseRequest', () => {
  it('counts all message text including the anthropic system prompt', () => {
    const result = parseRequest(
      'anthropic',
      JSON.stringify({ model: 'm', max_tokens: 10, system: 'abcd', messages: [{ role: 'user', content: [{ type: 'text', text: 'efgh' }] }] }),
    );
    expect(result).toMatchObject({ ok: true, request: { inputChars: 8, maxTokens: 10, prompt: 'abcd\nefgh' } });
  });

  it('normalises the generation parameters of both formats into one shape', () => {
    const openai = parseRequest('openai', JSON.stringify({
      model: 'gpt-4', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }],
      max_completion_tokens: 800, temperature: 0.4, top_p: 0.9, stop: 'END',
    }));
    const anthropic = parseRequest('anthropic', JSON.stringify({
      model: 'claude', system: [{ type: 'text', text: 'sys' }], messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 800, temperature: 0.4, top_p: 0.9, stop_sequences: ['END'],
    }));
    const expected = { system: 'sys', user: 'hi', temperature: 0.4, top_p: 0.9, max_tokens: 800, stop: ['END'] };
    expect(openai).toMatchObject({ ok: true, request: { received: expected } });
    expect(anthropic).toMatchObject({ ok: true, request: { received: expected } });
    expect(parseRequest('anthropic', JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })))
      .toMatchObject({ ok: true, request: { received: { system: '', temperature: null, top_p: null, stop: [] } } });
  });

  it('prefers max_completion_tokens for openai and allows no limit', () => {
    const messages = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }];
    expect(parseRequest('openai', JSON.stringify({ model: 'm', messages, max_completion_tokens: 5, max_tokens: 9 })))
      .toMatchObject({ ok: true, request: { maxTokens: 5, inputChars: 5 } });
    expect(parseRequest('openai', JSON.stringify({ model: 'm', messages }))).toMatchObject({ ok: true, request: { maxTokens: undefined } });
  });

  it.each([
    ['openai', '{not json'],
    ['openai', '{"messages":[{"role":"user","content":"x"}]}'],
    ['openai', '{"model":"m"}'],
    ['anthropic', '{"model":"m","messages":[{"role":"user","content":"x"}]}'],
    ['anthropic', '{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}'],
  ] as const)('%s refuses %s', (provider, raw) => {
    expect(parseRequest(provider, raw).ok).toBe(false);
  });
});

describe('replies', () => {
  it('truncates to max_tokens * 4 characters', () => {
    expect(limitAnswer('x'.repeat(100), 9, 10)).toEqual({ text: 'x'.repeat(40), truncated: true, inputTokens: 3, outputTokens: 10 });
    expect(limitAnswer('x'.repeat(40), 0, 10)).toMatchObject({ truncated: false, outputTokens: 10 });
  });

  it('reports length / max_tokens when truncated', () => {
    const req = { model: 'm', prompt: 'p', inputChars: 1, maxTokens: 1, received: { system: '', user: 'p', temperature: null, top_p: null, max_tokens: 1, stop: [] } };
    expect(JSON.parse(successReply('openai', req, 'long answer').body).choices[0].finish_reason).toBe('length');
    expect(JSON.parse(successReply('anthropic', req, 'long answer').body).stop_reason).toBe('max_tokens');
  });

  it('formats errors per provider', () => {
    const a = errorReply('anthropic', 529);
    expect(JSON.parse(a.body)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const o = errorReply('openai', 429, undefined, 7);
    expect(o.headers['retry-after']).toBe('7');
    expect(JSON.parse(o.body)).toMatchObject({ error: { code: 'rate_limit_exceeded', param: null } });
  });
});
