/**
 * The batch adapters, over the official SDKs, against the simulator in-process on a free port (no
 * Redis): the whole life of a batch for both providers, the batch knobs, and the counts that prove
 * batch work never shows as realtime calls.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startSimulator, type Simulator } from '../../../apps/simulator/server.ts';
import { AnthropicProvider } from '../anthropic.ts';
import { OpenAiProvider } from '../openai.ts';
import type { ProviderClient } from '../types.ts';
import { AnthropicBatchClient } from './anthropic.ts';
import { OpenAiBatchClient } from './openai.ts';
import { BatchProviderError, type BatchItemRequest, type BatchProviderClient, type BatchStatus } from './types.ts';

let sim: Simulator;
const clients: Record<'openai' | 'anthropic', { batch: BatchProviderClient; realtime: ProviderClient; model: string }> = {} as never;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, knobs: { seed: 42 } });
  clients.openai = { batch: new OpenAiBatchClient('openai', `${sim.url}/v1`, 'test'), realtime: new OpenAiProvider('openai', `${sim.url}/v1`, 'test'), model: 'gpt-4' };
  clients.anthropic = { batch: new AnthropicBatchClient('anthropic', sim.url, 'test'), realtime: new AnthropicProvider('anthropic', sim.url, 'test'), model: 'claude-3-5-sonnet-20241022' };
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset({ knobs: true });
  sim.setKnobs({ openai: { batch: { completion_delay_ms: 0 } }, anthropic: { batch: { completion_delay_ms: 0 } } });
});

const item = (customId: string, model: string, role = 'Nurse'): BatchItemRequest => ({
  customId,
  request: { model, system: 'You are an honest career counsellor.', user: `Current role: ${role}\nTarget sector: Healthcare`, maxOutputTokens: 800, temperature: 0.4 },
});

/** Polls the batch's status until it is no longer in progress, or fails at the deadline. */
async function settled(client: BatchProviderClient, id: string, deadlineMs = 5000): Promise<BatchStatus> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const status = await client.status(id);
    if (status.state !== 'in_progress') return status;
    if (Date.now() > deadline) throw new Error(`batch ${id} still in progress after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejection(p: Promise<unknown>): Promise<BatchProviderError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(BatchProviderError);
  return e as BatchProviderError;
}

describe.each(['openai', 'anthropic'] as const)('%s batch adapter against the simulator', (provider) => {
  const c = () => clients[provider];

  test('submit, poll to ended, results: the same tokens as the realtime endpoint, no realtime call counted', async () => {
    // Long enough that the first status read comes before the end even on a loaded machine.
    sim.setKnobs({ [provider]: { batch: { completion_delay_ms: 1500 } } });
    const items = [item('job-a', c().model), item('job-b', c().model, 'Welder')];
    const id = await c().batch.submit('local-1', items);
    expect((await c().batch.status(id)).state).toBe('in_progress');
    const status = await settled(c().batch, id);
    expect(status).toEqual({ providerBatchId: id, state: 'ended', counts: { done: 2, failed: 0, total: 2 } });
    const outcomes = await c().batch.results(id, ['job-a', 'job-b']);
    expect(outcomes.map((o) => [o.customId, o.kind])).toEqual([['job-a', 'succeeded'], ['job-b', 'succeeded']]);

    expect(sim.calls().total).toEqual({ openai: 0, anthropic: 0 });
    expect(sim.batchCalls()).toEqual({
      batches_created: { openai: provider === 'openai' ? 1 : 0, anthropic: provider === 'anthropic' ? 1 : 0 },
      items_submitted: { openai: provider === 'openai' ? 2 : 0, anthropic: provider === 'anthropic' ? 2 : 0 },
      batch_items_by_job: { 'job-a': 1, 'job-b': 1 },
    });

    const realtime = await c().realtime.complete({ ...items[0]!.request, jobId: 'rt', timeoutMs: 5000 });
    const first = outcomes[0]!;
    if (first.kind !== 'succeeded') throw new Error('expected a success');
    expect(first.result).toEqual(realtime);
    expect(first.result.inputTokens).toBeGreaterThan(0);
    expect(sim.calls().total[provider]).toBe(1);
  });

  test('a custom id submitted again in a later batch is counted twice', async () => {
    await c().batch.submit('local-1', [item('job-a', c().model)]);
    await c().batch.submit('local-2', [item('job-a', c().model), item('job-c', c().model)]);
    expect(sim.batchCalls().batch_items_by_job).toEqual({ 'job-a': 2, 'job-c': 1 });
    expect(sim.calls().by_job).toEqual({});
  });

  test('items error at the knob rate, drawn from the seeded PRNG, as classified outcomes', async () => {
    sim.setKnobs({ [provider]: { batch: { item_error_rate: 0.25 } } });
    const ids = Array.from({ length: 200 }, (_, i) => `j${i}`);
    const id = await c().batch.submit('local-err', ids.map((i) => item(i, c().model)));
    expect((await settled(c().batch, id)).state).toBe('ended');
    const outcomes = await c().batch.results(id, ids);
    const failed = outcomes.filter((o) => o.kind === 'errored');
    expect(failed.length / ids.length).toBeGreaterThan(0.15);
    expect(failed.length / ids.length).toBeLessThan(0.35);
    expect(failed[0]).toMatchObject({ kind: 'errored', code: 'provider_unavailable' });
    expect(outcomes.filter((o) => o.kind === 'succeeded')).toHaveLength(ids.length - failed.length);
  });

  test('expire_next: that batch ends expired and each item is expired; the next batch completes', async () => {
    sim.setKnobs({ [provider]: { batch: { expire_next: 1 } } });
    const id = await c().batch.submit('local-exp', [item('x1', c().model), item('x2', c().model)]);
    expect((await settled(c().batch, id)).state).toBe('expired');
    expect(await c().batch.results(id, ['x1', 'x2'])).toEqual([
      expect.objectContaining({ customId: 'x1', kind: 'expired', code: 'batch_expired' }),
      expect.objectContaining({ customId: 'x2', kind: 'expired', code: 'batch_expired' }),
    ]);
    expect(sim.knobs()[provider].batch.expire_next).toBe(0);
    const next = await c().batch.submit('local-next', [item('x3', c().model)]);
    expect((await settled(c().batch, next)).state).toBe('ended');
  });

  test('find recovers the batch created for a local id; an unknown one is null', async () => {
    const other = await c().batch.submit('local-other', [item('o1', c().model)]);
    const id = await c().batch.submit('local-find', [item('f1', c().model), item('f2', c().model)]);
    await settled(c().batch, id);
    await settled(c().batch, other);
    expect(await c().batch.find('local-find', ['f1', 'f2'])).toBe(id);
    expect(await c().batch.find('local-other', ['o1'])).toBe(other);
    expect(await c().batch.find('local-none', ['n1', 'n2', 'n3'])).toBeNull();
  });

  test('batch endpoints down: a classified, retryable 503; realtime still answers', async () => {
    sim.setKnobs({ [provider]: { batch: { down: true } } });
    const e = await rejection(c().batch.submit('local-down', [item('d1', c().model)]));
    expect(e).toMatchObject({ code: 'provider_unavailable', status: 503, retryable: true, provider });
    expect(sim.batchCalls().items_submitted[provider]).toBe(0);
    await expect(c().realtime.complete({ ...item('d1', c().model).request, jobId: 'rt', timeoutMs: 5000 })).resolves.toMatchObject({ finishReason: 'stop' });
  });

  test('results before the end is a retryable batch_not_ended; a bad custom id never leaves', async () => {
    sim.setKnobs({ [provider]: { batch: { completion_delay_ms: 60_000 } } });
    const id = await c().batch.submit('local-slow', [item('s1', c().model)]);
    expect(await rejection(c().batch.results(id, ['s1']))).toMatchObject({ code: 'batch_not_ended', retryable: true });
    expect(await rejection(c().batch.submit('local-bad', [item('has space', c().model)]))).toMatchObject({ code: 'batch_invalid_items', retryable: false });
    expect(await rejection(c().batch.submit('local-dup', [item('d', c().model), item('d', c().model)]))).toMatchObject({ code: 'batch_invalid_items' });
  });

  test('a refused connection is provider_connection_error', async () => {
    const dead = provider === 'openai' ? new OpenAiBatchClient('openai', 'http://127.0.0.1:1/v1', 'k') : new AnthropicBatchClient('anthropic', 'http://127.0.0.1:1', 'k');
    expect(await rejection(dead.status('batch_x'))).toMatchObject({ code: 'provider_connection_error', retryable: true });
  });
});

describe('Anthropic find while a candidate still runs', () => {
  test('is undecided (retryable) rather than null, then finds it once ended', async () => {
    sim.setKnobs({ anthropic: { batch: { completion_delay_ms: 1500 } } });
    const client = clients.anthropic.batch;
    const id = await client.submit('local-run', [item('r1', clients.anthropic.model)]);
    expect(await rejection(client.find('local-run', ['r1']))).toMatchObject({ code: 'batch_find_undecided', retryable: true });
    await settled(client, id);
    expect(await client.find('local-run', ['r1'])).toBe(id);
  });
});

describe('the wire, through the SDKs directly', () => {
  test('OpenAI: cancel, newest-first pages with limit/after, output lines and files', async () => {
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
    sim.setKnobs({ openai: { batch: { completion_delay_ms: 60_000 } } });
    const batch = clients.openai.batch;
    const ids = [await batch.submit('l1', [item('a', 'gpt-4')]), await batch.submit('l2', [item('b', 'gpt-4')]), await batch.submit('l3', [item('c', 'gpt-4')])];
    const first = await openai.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const b of openai.batches.list({ limit: 2 })) all.push(b.id);
    expect(all).toEqual([...ids].reverse());
    expect(first.data[0]?.metadata).toEqual({ local_batch_id: 'l3' });

    expect((await openai.batches.cancel(ids[0]!)).status).toBe('cancelling');
    expect(await batch.status(ids[0]!)).toMatchObject({ state: 'cancelled' });
    expect(await batch.results(ids[0]!, ['a'])).toEqual([expect.objectContaining({ kind: 'cancelled', code: 'batch_cancelled' })]);
    await expect(openai.batches.cancel(ids[0]!)).rejects.toMatchObject({ status: 400 });
    await expect(openai.batches.retrieve('batch_nope')).rejects.toMatchObject({ status: 404 });

    sim.setKnobs({ openai: { batch: { completion_delay_ms: 0, item_error_rate: 1 } } });
    const failing = await batch.submit('l4', [item('e', 'gpt-4')]);
    const done = await openai.batches.retrieve(failing);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 0, failed: 1 }, output_file_id: null });
    const errorLines = (await (await openai.files.content(done.error_file_id!)).text()).trim().split('\n');
    expect(JSON.parse(errorLines[0]!)).toMatchObject({ custom_id: 'e', response: { status_code: 500, body: { error: { type: 'server_error' } } }, error: null });
  });

  test('OpenAI: a malformed input file makes a failed batch, its items errored batch_failed and never counted', async () => {
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const file = await openai.files.create({ file: await OpenAI.toFile(Buffer.from('{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}\nnot json\n'), 'bad.jsonl'), purpose: 'batch' });
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created.status).toBe('failed');
    expect(created.errors?.data?.[0]).toMatchObject({ code: 'invalid_json_line', line: 2 });
    expect(await clients.openai.batch.results(created.id, ['a'])).toEqual([expect.objectContaining({ kind: 'errored', code: 'batch_failed' })]);
    expect(sim.batchCalls().batch_items_by_job).toEqual({});
  });

  test('Anthropic: cancel, list, invalid requests refused with 400', async () => {
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    sim.setKnobs({ anthropic: { batch: { completion_delay_ms: 60_000 } } });
    const id = await clients.anthropic.batch.submit('l1', [item('a', 'claude-3-5-sonnet-20241022')]);
    expect((await anthropic.messages.batches.cancel(id)).processing_status).toBe('canceling');
    const ended = await anthropic.messages.batches.retrieve(id);
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { canceled: 1, processing: 0 } });
    expect(await clients.anthropic.batch.status(id)).toMatchObject({ state: 'cancelled' });
    expect(await clients.anthropic.batch.results(id, ['a'])).toEqual([expect.objectContaining({ kind: 'cancelled' })]);
    expect((await anthropic.messages.batches.list()).data.map((b) => b.id)).toEqual([id]);
    await expect(anthropic.messages.batches.create({ requests: [] })).rejects.toMatchObject({ status: 400 });
    await expect(anthropic.messages.batches.create({ requests: [{ custom_id: 'x', params: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } as never }] })).resolves.toMatchObject({ processing_status: 'in_progress' });
  });

  test('Anthropic: an item the realtime endpoint would refuse ends errored with its 400 class', async () => {
    const anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'k', maxRetries: 0 });
    const created = await anthropic.messages.batches.create({ requests: [{ custom_id: 'nomax', params: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } as never }] });
    expect(await clients.anthropic.batch.results(created.id, ['nomax'])).toEqual([expect.objectContaining({ kind: 'errored', code: 'provider_bad_request' })]);
  });
});
