import { describe, expect, test } from 'vitest';
import { BatchCounters } from './batchCounters.ts';
import { answerItem, endedAt, pageOf, phaseOf, type SimBatch } from './batches.ts';
import { anthropicBatch, anthropicResults, openAiBatch, openAiResultFiles } from './batchWire.ts';
import { defaultBatchKnobs, defaultKnobs, mergeKnobs } from './knobs.ts';
import { createRng } from './random.ts';
import { SimulatorState } from './state.ts';
import { limitAnswer, parseRequest } from './wire.ts';

const body = { model: 'gpt-4', messages: [{ role: 'user', content: 'Current role: Nurse' }] };
const batch = (extra: Partial<SimBatch> = {}): SimBatch => ({
  id: 'b1', provider: 'openai', createdAt: 1000, endsAt: 2000, expires: false, metadata: null, inputFileId: 'file-1', failure: null,
  cancelledAt: null, outputFileId: null, errorFileId: null, settled: false,
  items: [answerItem('openai', body, defaultBatchKnobs(), createRng(1)), { kind: 'errored' as const, status: 500, message: 'x' }].map((answer, i) => ({ customId: `c${i}`, answer })),
  ...extra,
});

describe('batch knobs', () => {
  test('defaults are harmless, patches merge field by field and are validated', () => {
    expect(defaultKnobs().openai.batch).toEqual({ completion_delay_ms: 200, item_error_rate: 0, expire_next: 0, down: false });
    const merged = mergeKnobs(defaultKnobs(), { anthropic: { batch: { expire_next: 2 } } });
    expect(merged.ok && merged.knobs.anthropic.batch).toEqual({ completion_delay_ms: 200, item_error_rate: 0, expire_next: 2, down: false });
    for (const [patch, field] of [
      [{ item_error_rate: 2 }, 'item_error_rate'], [{ expire_next: 1.5 }, 'expire_next'], [{ completion_delay_ms: -1 }, 'completion_delay_ms'], [{ down: 1 }, 'down'], [{ nope: 1 }, 'nope'],
    ] as const) {
      const r = mergeKnobs(defaultKnobs(), { openai: { batch: patch } });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors.join(' ')).toContain(`openai.batch.${field}`);
    }
    expect(mergeKnobs(defaultKnobs(), { openai: { batch: 3 } }).ok).toBe(false);
  });
  test('expire_next counts down per batch; reset restores the start knobs', () => {
    const state = new SimulatorState(defaultKnobs());
    state.setKnobs({ openai: { batch: { expire_next: 2 } } });
    expect([state.takeExpiry('openai'), state.takeExpiry('openai'), state.takeExpiry('openai')]).toEqual([true, true, false]);
    expect(state.takeExpiry('anthropic')).toBe(false);
    state.setKnobs({ openai: { batch: { expire_next: 1 } } });
    state.reset({ knobs: true });
    expect(state.knobs.openai.batch.expire_next).toBe(0);
  });
});

describe('answerItem', () => {
  test('the same tokens as the realtime answer; invalid bodies and drawn errors are errored items', () => {
    const answer = answerItem('openai', body, defaultBatchKnobs(), createRng(1));
    const parsed = parseRequest('openai', JSON.stringify(body));
    if (answer.kind !== 'succeeded' || !parsed.ok) throw new Error('expected a success');
    expect(answer.inputTokens).toBe(limitAnswer('', parsed.request.inputChars, undefined).inputTokens);
    expect(answerItem('anthropic', body, defaultBatchKnobs(), createRng(1))).toMatchObject({ kind: 'errored', status: 400 });
    expect(answerItem('openai', body, { ...defaultBatchKnobs(), item_error_rate: 1 }, createRng(1))).toMatchObject({ kind: 'errored', status: 500 });
  });
});

describe('lifecycle and wire shapes', () => {
  test('in progress until endsAt, then completed, expired, cancelled or failed', () => {
    expect(phaseOf(batch(), 1999)).toBe('in_progress');
    expect(endedAt(batch(), 1999)).toBeNull();
    expect(phaseOf(batch(), 2000)).toBe('completed');
    expect(phaseOf(batch({ expires: true }), 2000)).toBe('expired');
    expect(phaseOf(batch({ cancelledAt: 1500 }), 1600)).toBe('cancelled');
    expect(endedAt(batch({ cancelledAt: 1500 }), 1600)).toBe(1500);
    expect(phaseOf(batch({ cancelledAt: 2500 }), 3000)).toBe('completed');
    expect(phaseOf(batch({ failure: [{ code: 'x', message: 'y', line: 1 }] }), 0)).toBe('failed');
  });
  test('OpenAI object counts and result files', () => {
    expect(openAiBatch(batch(), 1500)).toMatchObject({ status: 'in_progress', request_counts: { total: 2, completed: 0, failed: 0 }, completed_at: null });
    expect(openAiBatch(batch(), 2000)).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 }, completed_at: 2 });
    const files = openAiResultFiles(batch());
    expect(files.output.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(files.errors)).toMatchObject({ custom_id: 'c1', response: { status_code: 500 } });
  });
  test('Anthropic object counts and results', () => {
    const b = batch({ provider: 'anthropic' });
    expect(anthropicBatch(b, 1500, 'http://h')).toMatchObject({ processing_status: 'in_progress', request_counts: { processing: 2 }, results_url: null });
    expect(anthropicBatch(b, 2000, 'http://h')).toMatchObject({ processing_status: 'ended', request_counts: { processing: 0, succeeded: 1, errored: 1 }, results_url: 'http://h/v1/messages/batches/b1/results' });
    expect(anthropicBatch(batch({ expires: true }), 2000, 'http://h')).toMatchObject({ request_counts: { expired: 2, succeeded: 0 } });
    expect(anthropicResults(batch({ expires: true }), 2000).trim().split('\n').map((l) => (JSON.parse(l) as { result: { type: string } }).result.type)).toEqual(['expired', 'expired']);
  });
  test('pages newest first after a cursor; an unknown cursor is an empty page', () => {
    const items = ['c', 'b', 'a'].map((id) => ({ id }));
    expect(pageOf(items, 2, undefined)).toEqual({ data: [{ id: 'c' }, { id: 'b' }], hasMore: true });
    expect(pageOf(items, 2, 'b')).toEqual({ data: [{ id: 'a' }], hasMore: false });
    expect(pageOf(items, 2, 'zz')).toEqual({ data: [], hasMore: false });
  });
});

describe('BatchCounters', () => {
  test('counts batches, items and submissions per custom id; reset zeroes them', () => {
    const c = new BatchCounters();
    c.submitted('openai', ['a', 'b']);
    c.submitted('anthropic', ['a']);
    expect(c.snapshot()).toEqual({ batches_created: { openai: 1, anthropic: 1 }, items_submitted: { openai: 2, anthropic: 1 }, batch_items_by_job: { a: 2, b: 1 } });
    c.reset();
    expect(c.snapshot().batch_items_by_job).toEqual({});
  });
});
