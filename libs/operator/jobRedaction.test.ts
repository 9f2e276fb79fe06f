import { describe, expect, test } from 'vitest';
import type { FeatureConfig } from '../config/types.ts';
import { redactJobData, redactReturnValue } from './jobRedaction.ts';

const R = '[redacted]';
const feature = (privacy?: FeatureConfig['privacy']) => ({ privacy }) as unknown as FeatureConfig;

const llmData = () => ({
  clientId: 'rails',
  feature: 'career',
  input: { current_role: 'Nurse', degree: { level: 'bachelor', field: 'Nursing' }, years_experience: 6, skills: ['triage'], target_sector: 'health' },
  userId: 'u1',
  callbackUrl: 'https://rails.example/hooks',
  metadata: { email: 'a@b.c', account: 7 },
  createdAt: '2026-12-02T00:00:00.000Z',
  answer: { text: 'Dear Ann, ...', provider: 'openai', costMicros: 120 },
});

describe('redactJobData, llm-jobs', () => {
  test('the configured fields and the answer are redacted; the rest is kept; the original is untouched', () => {
    const data = llmData();
    const features = { career: feature({ personal_fields: ['input.current_role', 'input.degree.field', 'input.skills', 'metadata.email', 'user_id'] }) };
    const out = redactJobData('llm-jobs', data, features) as ReturnType<typeof llmData>;
    expect(out.input).toEqual({ current_role: R, degree: { level: 'bachelor', field: R }, years_experience: 6, skills: R, target_sector: 'health' });
    expect(out.metadata).toEqual({ email: R, account: 7 });
    expect(out.userId).toBe(R);
    expect(out.callbackUrl).toBe('https://rails.example/hooks');
    expect(out.answer).toEqual({ text: R, provider: 'openai', costMicros: 120 });
    expect(data).toEqual(llmData());
  });

  test('answer_is_personal false keeps the answer', () => {
    const out = redactJobData('llm-jobs', llmData(), { career: feature({ personal_fields: [], answer_is_personal: false }) }) as ReturnType<typeof llmData>;
    expect(out).toEqual(llmData());
  });

  test('fields a job does not have are not added, nulls stay null', () => {
    const data = { ...llmData(), metadata: null, answer: undefined };
    const out = redactJobData('llm-jobs', data, { career: feature({ personal_fields: ['input.goals', 'metadata.email', 'metadata'] }) }) as Record<string, unknown>;
    expect(out.metadata).toBeNull();
    expect(out.input).not.toHaveProperty('goals');
    expect(out).not.toHaveProperty('answer.text');
  });

  test.each([
    ['a feature without privacy', 'career', { career: feature(undefined) }],
    ['an unknown feature', 'career', {}],
    ['a feature named like an Object member', 'constructor', {}],
  ])('%s: input, metadata and answer are redacted whole', (_what, name, features) => {
    const data = { ...llmData(), feature: name };
    const out = redactJobData('llm-jobs', data, features) as ReturnType<typeof llmData>;
    expect(out.input).toBe(R);
    expect(out.metadata).toBe(R);
    expect(out.answer.text).toBe(R);
    expect(out.userId).toBe('u1');
  });
});

describe('redactJobData, webhooks', () => {
  const delivery = () => ({
    jobId: 'job_1',
    clientId: 'rails',
    webhookId: 'msg_1',
    url: 'https://rails.example/hooks?sig=1',
    payload: { type: 'job.completed', timestamp: 't', data: { id: 'job_1', feature: 'career', user_id: 'u1', callback_url: 'https://rails.example/hooks?sig=1', metadata: { email: 'a@b.c' }, result: { text: 'Dear Ann' } } },
  });
  test('the public job inside the body is redacted as its feature says', () => {
    const out = redactJobData('webhooks', delivery(), { career: feature({ personal_fields: ['metadata.email', 'callback_url', 'input.goals'] }) }) as ReturnType<typeof delivery>;
    expect(out.url).toBe(R);
    expect(out.payload.data).toEqual({ id: 'job_1', feature: 'career', user_id: 'u1', callback_url: R, metadata: { email: R }, result: { text: R } });
    expect(out.jobId).toBe('job_1');
  });
});

test('a queue without a known layout shows no data', () => {
  expect(redactJobData('other', { secret: 'x' }, {})).toBe(R);
  expect(redactJobData('llm-jobs', 'text', {})).toBe(R);
  expect(redactJobData('llm-jobs', null, {})).toBeNull();
});

test('redactReturnValue keeps numbers, booleans and a status, hides other text', () => {
  expect(redactReturnValue({ status: 'completed', costMicros: 120, ok: true, none: null, text: 'Dear Ann', nested: { a: 1 } })).toEqual({
    status: 'completed',
    costMicros: 120,
    ok: true,
    none: null,
    text: R,
    nested: R,
  });
  expect(redactReturnValue('Dear Ann')).toBe(R);
  expect(redactReturnValue(3)).toBe(3);
  expect(redactReturnValue(undefined)).toBeUndefined();
});
