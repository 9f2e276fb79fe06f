import { describe, expect, it } from 'vitest';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { feedbackFor, publicFeedback, validateFeedback } from './feedback.ts';

const NOW = new Date('2026-02-01T09:30:00.000Z');

describe('validateFeedback', () => {
  it.each([
    [{ rating: 1 }],
    [{ rating: 5, helpful: false }],
    [{ rating: 3, helpful: true, comment: 'é'.repeat(2000) }],
  ])('accepts %j', (body) => {
    expect(validateFeedback(body)).toEqual(body);
  });

  it.each([
    ['no rating', { helpful: true }, '/'],
    ['a rating below 1', { rating: 0 }, '/rating'],
    ['a rating above 5', { rating: 6 }, '/rating'],
    ['a fractional rating', { rating: 4.5 }, '/rating'],
    ['a rating as text', { rating: '5' }, '/rating'],
    ['helpful as text', { rating: 4, helpful: 'yes' }, '/helpful'],
    ['a comment over 2000 characters', { rating: 4, comment: 'x'.repeat(2001) }, '/comment'],
    ['an unknown field', { rating: 4, stars: 5 }, '/'],
    ['an array', [4], '/'],
    ['null', null, '/'],
  ])('refuses %s with invalid_body naming the field', (_name, body, path) => {
    let error: unknown;
    try {
      validateFeedback(body);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'invalid_body', status: 400 });
    expect((error as { details: Array<{ path: string }> }).details.map((d) => d.path)).toContain(path);
  });
});

describe('feedbackFor', () => {
  it("makes the job's record with nulls for what was not given", () => {
    const job = makeJobRecord({ client_id: 'alice' });
    const record = feedbackFor(job, { rating: 4 }, NOW);
    expect(record).toEqual({ job_id: job.id, client_id: 'alice', rating: 4, helpful: null, comment: null, created_at: NOW.toISOString() });
    expect(publicFeedback(record)).toEqual({ job_id: job.id, rating: 4, helpful: null, comment: null, created_at: NOW.toISOString() });
  });

  it.each(['queued', 'active', 'failed', 'rejected', 'cancelled'] as const)('refuses a %s job with job_not_completed', (status) => {
    expect(() => feedbackFor(makeJobRecord({ status }), { rating: 4 }, NOW)).toThrow(expect.objectContaining({ code: 'job_not_completed', status: 409 }));
  });
});
