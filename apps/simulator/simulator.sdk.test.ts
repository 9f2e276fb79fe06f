/**
 * The official SDKs against the simulator, in-process on a free port. No Redis needed.
 *
 * Malformed answers (malformed_rate 1): a truncated-JSON body makes both SDKs throw (a JSON
 * SyntaxError, not an APIError); a valid-JSON body of the wrong shape resolves with an object that
 * lacks `choices` (OpenAI) or `content` (Anthropic). The gateway must treat both as provider errors.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallCounts } from './counters.ts';
import { startSimulator, type Simulator } from './server.ts';

let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;

const PROMPT = 'Current role: Data Analyst\nTarget sector: Renewable energy\nYears of experience: 4';
const chat = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}, options?: OpenAI.RequestOptions) =>
  openai.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: PROMPT }], ...extra }, options);
const message = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}, options?: Anthropic.RequestOptions) =>
  anthropic.messages.create(
    { model: 'claude-3-5-sonnet-latest', max_tokens: 1024, messages: [{ role: 'user', content: PROMPT }], ...extra },
    options,
  );

async function admin<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${sim.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

async function pollCalls(done: (c: CallCounts) => boolean, deadlineMs = 3000): Promise<CallCounts> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const { body } = await admin<CallCounts>('GET', '/admin/calls');
    if (done(body) || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, knobs: { seed: 123 } });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 5000 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'test', maxRetries: 0, timeout: 5000 });
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset({ knobs: true });
});

describe('simulator with the official SDKs', () => {
  it('answers a chat completion with usage', async () => {
    const withSystem = { messages: [{ role: 'system' as const, content: 'You coach.' }, { role: 'user' as const, content: PROMPT }] };
    const completion = await chat(withSystem);
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.content).toContain('Renewable energy');
    const text = choice?.message.content ?? '';
    expect(completion.usage).toEqual({
      prompt_tokens: Math.ceil(('You coach.'.length + PROMPT.length) / 4),
      completion_tokens: Math.ceil(text.length / 4),
      total_tokens: Math.ceil(('You coach.'.length + PROMPT.length) / 4) + Math.ceil(text.length / 4),
    });
    expect((await chat(withSystem)).choices[0]?.message.content).toBe(text);
  });

  it('answers an anthropic message with usage and truncates at max_tokens', async () => {
    const msg = await message({ system: 'You coach.' });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.stop_reason).toBe('end_turn');
    const block = msg.content[0];
    expect(block?.type).toBe('text');
    expect(msg.usage.input_tokens).toBe(Math.ceil(('You coach.'.length + PROMPT.length) / 4));

    const short = await message({ max_tokens: 20 });
    expect(short.stop_reason).toBe('max_tokens');
    expect(short.usage.output_tokens).toBe(20);
    const shortBlock = short.content[0];
    expect(shortBlock?.type === 'text' ? shortBlock.text.length : 0).toBe(80);
    expect((await chat({ max_completion_tokens: 5 })).choices[0]?.finish_reason).toBe('length');
  });

  it('surfaces an injected 429 with retry-after', async () => {
    sim.setKnobs({ openai: { error_rate: 1, error_statuses: [429], retry_after_s: 3 }, anthropic: { error_rate: 1, error_statuses: [429] } });
    const e = await caught(chat());
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((e as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('3');
    const a = await caught(message());
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect((a as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('1');
  });

  it('answers 503 at once when a provider is down, through the admin endpoint', async () => {
    const put = await admin<{ anthropic: { down: boolean } }>('PUT', '/admin/knobs', { anthropic: { down: true } });
    expect(put.body.anthropic.down).toBe(true);
    const a = await caught(message());
    expect(a).toBeInstanceOf(Anthropic.APIError);
    expect((a as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    expect(((a as InstanceType<typeof Anthropic.APIError>).error as { error: { type: string } }).error.type).toBe('overloaded_error');
    expect((await chat()).choices).toHaveLength(1);
  });

  it('refuses bad knobs with 400', async () => {
    const res = await admin<{ error: { code: string } }>('PUT', '/admin/knobs', { openai: { hang_rate: 2 } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_knobs');
  });

  it('counts calls per provider and per job id', async () => {
    const jobbed = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0, defaultHeaders: { 'x-gateway-job-id': 'job-a' } });
    await jobbed.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
    await jobbed.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
    await message({}, { headers: { 'x-gateway-job-id': 'job-b' } });
    await chat();
    const calls = sim.calls();
    expect(calls.total).toEqual({ openai: 3, anthropic: 1 });
    expect(calls.by_job).toEqual({ 'job-a': { openai: 2, anthropic: 0 }, 'job-b': { openai: 0, anthropic: 1 } });
    expect(calls.in_flight).toEqual({ openai: 0, anthropic: 0 });
    await admin('POST', '/admin/reset');
    expect((await admin<CallCounts>('GET', '/admin/calls')).body.total).toEqual({ openai: 0, anthropic: 0 });
  });

  it('a hung request times out in the SDK and is counted as aborted', async () => {
    sim.setKnobs({ openai: { hang_rate: 1 } });
    const impatient = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0, timeout: 300 });
    const started = Date.now();
    const e = await caught(impatient.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }));
    expect(e).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
    const calls = await pollCalls((c) => c.aborted.openai === 1);
    expect(calls.aborted).toEqual({ openai: 1, anthropic: 0 });
    expect(calls.in_flight.openai).toBe(0);
  });

  it('malformed answers either throw or lack the expected fields', async () => {
    sim.setKnobs({ openai: { malformed_rate: 1 }, anthropic: { malformed_rate: 1 } });
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      try {
        const c = (await chat()) as unknown as Record<string, unknown>;
        expect(c.choices).toBeUndefined();
        seen.add('wrong_shape');
      } catch (e) {
        expect(e).toBeInstanceOf(SyntaxError);
        seen.add('invalid_json');
      }
      try {
        const m = (await message()) as unknown as Record<string, unknown>;
        expect(m.content).toBeUndefined();
      } catch (e) {
        expect(e).toBeInstanceOf(SyntaxError);
      }
    }
    expect(seen).toEqual(new Set(['wrong_shape', 'invalid_json']));
  });

  it('answers 400 in the provider format for bad bodies', async () => {
    const o = await caught(openai.chat.completions.create({ model: '', messages: [] }));
    expect((o as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    const res = await fetch(`${sim.url}/v1/messages`, { method: 'POST', body: '{"model":"m","messages":[{"role":"user","content":"x"}]}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});
