import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import {
  FEEDBACK_COLLECTION,
  JOBS_COLLECTION,
  type JobDocument,
  createFeedbackSchema,
  createJobSchema,
  experimentRowsPipeline,
  finishedRowsPipeline,
  expiresAt,
  fromFeedbackDocument,
  fromJobDocument,
  toFeedbackDocument,
  toJobDocument,
} from './mongoSchema.ts';
import { makeFeedbackRecord } from '../../test/helpers/storeConformance.ts';
import { toExperimentRow } from './experimentRow.ts';
import { toFinishedRow } from './finishedRow.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');

describe('createJobSchema', () => {
  it('declares the indexes the API, the A/B report and retention query by', () => {
    const indexes = createJobSchema().indexes();
    expect(indexes).toEqual([
      [{ client_id: 1, created_at: -1, _id: -1 }, expect.objectContaining({ name: 'client_created_id' })],
      [{ client_id: 1, user_id: 1, created_at: -1, _id: -1 }, expect.objectContaining({ name: 'client_user_created' })],
      [{ status: 1, completed_at: -1 }, expect.objectContaining({ name: 'status_completed' })],
      [
        { feature: 1, 'experiment.id': 1, 'experiment.variant': 1, completed_at: -1 },
        expect.objectContaining({ name: 'feature_experiment_completed' }),
      ],
      [{ client_id: 1, 'experiment.id': 1, created_at: -1 }, expect.objectContaining({ name: 'client_experiment_created' })],
      [{ 'experiment.id': 1, created_at: -1 }, expect.objectContaining({ name: 'experiment_created' })],
      [{ expires_at: 1 }, expect.objectContaining({ name: 'retention_ttl', expireAfterSeconds: 0 })],
    ]);
  });

  it('keeps unknown fields and empty objects, adds no __v, builds no index implicitly', () => {
    const options = createJobSchema().options;
    expect(options).toMatchObject({ strict: false, minimize: false, versionKey: false, autoIndex: false, autoCreate: false });
    expect(createJobSchema().path('_id').instance).toBe('String');
  });
});

describe('expiresAt', () => {
  it('counts whole days from the save', () => {
    expect(expiresAt(NOW, 90)?.toISOString()).toBe('2026-04-10T12:00:00.000Z');
    expect(expiresAt(NOW, 1)?.toISOString()).toBe('2026-01-11T12:00:00.000Z');
  });

  it('is undefined when records are kept forever', () => {
    expect(expiresAt(NOW, 0)).toBeUndefined();
  });
});

describe('toJobDocument / fromJobDocument', () => {
  it('stores the id as _id, top-level fields, and an expiry date', () => {
    const job = makeJobRecord();
    const doc = toJobDocument(job, NOW, 30);
    expect(doc._id).toBe(job.id);
    expect(doc).not.toHaveProperty('id');
    expect(doc.expires_at).toEqual(new Date('2026-02-09T12:00:00.000Z'));
    expect(doc.experiment).toEqual(job.experiment);
    expect(doc.client_id).toBe(job.client_id);
  });

  it('sets no expiry when retention is 0, and drops a stray expires_at from the input', () => {
    const job = { ...makeJobRecord(), expires_at: new Date(0) } as ReturnType<typeof makeJobRecord>;
    expect(toJobDocument(job, NOW, 0)).not.toHaveProperty('expires_at');
  });

  it.each([
    ['a full record', makeJobRecord()],
    [
      'a record with every optional field null',
      makeJobRecord({ status: 'queued', prompt_version: null, experiment: null, provider: null, model: null, result: null, usage: null, cost_usd: null, cache: null, provider_attempts: [], latency_ms: null, user_id: null, metadata: null, started_at: null, completed_at: null }),
    ],
    ['a record with empty metadata', makeJobRecord({ metadata: {} })],
  ])('round-trips %s exactly', (_name, job) => {
    expect(fromJobDocument(toJobDocument(job, NOW, 90))).toStrictEqual(job);
  });

  it('never leaks _id, __v or expires_at, and keeps fields a newer gateway added', () => {
    const job = makeJobRecord();
    const stored = { ...toJobDocument(job, NOW, 90), __v: 0, future_field: { a: 1 } };
    const back = fromJobDocument(stored);
    expect(back).not.toHaveProperty('_id');
    expect(back).not.toHaveProperty('__v');
    expect(back).not.toHaveProperty('expires_at');
    expect(back).toEqual({ ...job, future_field: { a: 1 } });
  });

  it('refuses a document without a string _id', () => {
    expect(() => fromJobDocument({ client_id: 'c' })).toThrow(expect.objectContaining({ code: 'store_corrupt_record' }));
  });
});

describe('mongoose casting of a job document', () => {
  // What replaceOne and bulkWrite send: mongoose builds a document from the replacement and
  // serialises it with toBSON(). No server is needed to see that result.
  const conn = mongoose.createConnection();
  const Job = conn.model<JobDocument>('Job', createJobSchema(), JOBS_COLLECTION);
  afterAll(() => conn.close());

  it.each([
    ['a full record', makeJobRecord()],
    ['nulls and empty objects', makeJobRecord({ experiment: null, metadata: {}, provider_attempts: [], cost_usd: null, usage: null })],
    ['a retention of 0', makeJobRecord()],
  ])('leaves %s unchanged', (name, job) => {
    const doc = toJobDocument(job, NOW, name === 'a retention of 0' ? 0 : 90);
    const sent = new Job(doc, null, { skipId: true }).toBSON() as Record<string, unknown>;
    expect(sent).toStrictEqual(doc);
    expect(fromJobDocument(sent)).toStrictEqual(job);
  });

  it('uses the jobs collection', () => {
    expect(Job.collection.collectionName).toBe('jobs');
  });
});

describe('feedback documents', () => {
  it('declares a client index and the retention TTL, and refuses a rating outside 1-5', () => {
    const schema = createFeedbackSchema();
    expect(schema.indexes()).toEqual([
      [{ client_id: 1 }, expect.objectContaining({ name: 'client' })],
      [{ expires_at: 1 }, expect.objectContaining({ name: 'retention_ttl', expireAfterSeconds: 0 })],
    ]);
    const Feedback = mongoose.createConnection().model('Feedback', schema, FEEDBACK_COLLECTION);
    const doc = (rating: number) => new Feedback(toFeedbackDocument(makeFeedbackRecord(makeJobRecord(), { rating }), NOW, 0));
    expect(doc(9).validateSync()?.errors).toHaveProperty('rating');
    expect(doc(4).validateSync()).toBeUndefined();
  });

  it('stores the job id as _id with an expiry, and maps back to the same record', () => {
    const feedback = makeFeedbackRecord(makeJobRecord(), { helpful: null, comment: null });
    const doc = toFeedbackDocument(feedback, NOW, 30);
    expect(doc).toMatchObject({ _id: feedback.job_id, rating: 4, expires_at: new Date('2026-02-09T12:00:00.000Z') });
    expect(doc).not.toHaveProperty('job_id');
    expect(toFeedbackDocument(feedback, NOW, 0)).not.toHaveProperty('expires_at');
    expect(fromFeedbackDocument({ ...doc, __v: 0 })).toEqual(feedback);
    expect(() => fromFeedbackDocument({ rating: 3 })).toThrow(expect.objectContaining({ code: 'store_corrupt_record' }));
  });
});

describe('experimentRowsPipeline', () => {
  it("matches the client's experiment since the date with $eq, looks feedback up by _id, keeps the answer text out", () => {
    const [match, project, lookup, last] = experimentRowsPipeline('client-a', 'career_model_ab', '2026-01-01T00:00:00.000Z') as unknown as Record<string, Record<string, unknown>>[];
    expect(match).toEqual({ $match: { client_id: { $eq: 'client-a' }, 'experiment.id': { $eq: 'career_model_ab' }, created_at: { $gte: '2026-01-01T00:00:00.000Z' } } });
    expect(project?.$project).toMatchObject({ variant: '$experiment.variant', input_tokens: '$usage.input_tokens', provider_latency_ms: '$latency_ms.provider' });
    expect(project?.$project).not.toHaveProperty('result');
    expect(lookup).toEqual({ $lookup: { from: FEEDBACK_COLLECTION, localField: '_id', foreignField: '_id', as: 'feedback' } });
    expect(last?.$project).toMatchObject({ _id: 0, variant: 1, rating: expect.any(Object) });
  });

  it('projects the fields the report groups by; the unit is the user, else the job (its id is _id)', () => {
    const [, project, , last] = experimentRowsPipeline('client-a', 'career_model_ab', '2026-01-01T00:00:00.000Z') as unknown as Record<string, Record<string, unknown>>[];
    expect(project?.$project).toMatchObject({
      unit: { $ifNull: ['$user_id', '$_id'] },
      created_at: '$created_at',
      queue_latency_ms: '$latency_ms.queue',
      sector: '$category.sector',
      degree_level: '$category.degree_level',
      experience_band: '$category.experience_band',
      holdout: '$experiment.holdout',
      lane: '$lane',
    });
    expect(last?.$project).toMatchObject({ unit: 1, created_at: 1, holdout: 1, sector: 1, lane: 1 });
  });

  it('every client (null): no client in the match, so the experiment_created index serves it', () => {
    const [match] = experimentRowsPipeline(null, 'career_model_ab', '2026-01-01T00:00:00.000Z') as unknown as Record<string, Record<string, unknown>>[];
    expect(match).toEqual({ $match: { 'experiment.id': { $eq: 'career_model_ab' }, created_at: { $gte: '2026-01-01T00:00:00.000Z' } } });
  });

  it('a stored row with missing fields normalises to nulls', () => {
    expect(toExperimentRow({ variant: 'gpt4', status: 'failed', degraded: false, rating: null })).toEqual({
      variant: 'gpt4',
      status: 'failed',
      served_by: null,
      cache: null,
      degraded: false,
      cost_usd: null,
      input_tokens: null,
      output_tokens: null,
      provider_latency_ms: null,
      total_latency_ms: null,
      rating: null,
      queue_latency_ms: null,
      created_at: '',
      unit: '',
      sector: 'unknown',
      degree_level: 'unknown',
      experience_band: 'unknown',
      holdout: false,
      lane: 'realtime',
      assignment_known: false,
    });
    expect(toExperimentRow({ variant: 'claude', status: 'completed', degraded: 1, cache: 'hit', rating: 5, lane: 'batch' })).toMatchObject({ degraded: true, cache: 'hit', rating: 5, lane: 'batch' });
  });
});

describe('finishedRowsPipeline', () => {
  it('matches terminal records completed in the window, newest first, capped, projecting only the row fields', () => {
    const [match, sort, limit, project] = finishedRowsPipeline(['completed', 'failed'], '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z', 50) as unknown as Record<string, Record<string, unknown>>[];
    expect(match).toEqual({ $match: { status: { $in: ['completed', 'failed'] }, completed_at: { $gte: '2026-12-01T00:00:00.000Z', $lt: '2026-12-02T00:00:00.000Z' } } });
    expect(sort).toEqual({ $sort: { completed_at: -1 } });
    expect(limit).toEqual({ $limit: 50 });
    expect(project!.$project).toMatchObject({ _id: 0, provider: '$provider', variant: '$experiment.variant', error_code: '$error.code', provider_latency_ms: '$latency_ms.provider' });
    expect(Object.values(project!.$project!)).not.toContain('$result');
  });

  it('a stored row with missing fields normalises to nulls', () => {
    expect(toFinishedRow({ client_id: 'c1', status: 'cancelled', completed_at: '2026-12-01T10:00:00.000Z' })).toEqual({
      client_id: 'c1',
      status: 'cancelled',
      provider: null,
      experiment_id: null,
      variant: null,
      served_by: null,
      cost_usd: null,
      provider_latency_ms: null,
      total_latency_ms: null,
      error_code: null,
      completed_at: '2026-12-01T10:00:00.000Z',
    });
  });

  it('a held-out job belongs to no variant (SQLite answers its flag as 1)', () => {
    for (const holdout of [true, 1]) {
      expect(toFinishedRow({ client_id: 'c1', status: 'completed', experiment_id: 'career_model_ab', variant: 'gpt4', holdout, completed_at: 'x' })).toMatchObject({ experiment_id: null, variant: null });
    }
    expect(toFinishedRow({ client_id: 'c1', status: 'completed', experiment_id: 'career_model_ab', variant: 'gpt4', holdout: null, completed_at: 'x' })).toMatchObject({ experiment_id: 'career_model_ab', variant: 'gpt4' });
  });
});
