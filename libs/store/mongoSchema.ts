/**
 * The MongoDB shape of a job: the schema, its indexes, and the pure mapping between a JobRecord
 * and the stored document. Kept apart from the adapter so it can be tested without a server.
 *
 * A document holds the record's fields at top level with `_id` = the job id (no separate `id`),
 * plus `expires_at`, the Date the TTL index deletes it at. Timestamps stay ISO-8601 UTC strings,
 * exactly as the record carries them: they sort chronologically as strings, and converting to
 * BSON dates would not round-trip byte for byte ('…00Z' would come back as '…00.000Z').
 */
import { type PipelineStage, Schema } from 'mongoose';
import { GatewayError } from '../errors/index.ts';
import { EXPERIMENT_ROW_PATHS } from './experimentRow.ts';
import { FINISHED_ROW_PATHS } from './finishedRow.ts';
import type { FeedbackRecord, JobRecord } from './types.ts';

/** The collection job records live in. */
export const JOBS_COLLECTION = 'jobs';

/** The collection feedback lives in, one document per job (`_id` = the job id). */
export const FEEDBACK_COLLECTION = 'feedback';

/** A job record as stored in MongoDB. */
export type JobDocument = Omit<JobRecord, 'id'> & { _id: string; expires_at?: Date };

/** Milliseconds in a day, for retention arithmetic. */
const DAY_MS = 86_400_000;

/**
 * The indexes the gateway's queries need, as `[keys, options]` pairs (the shape of
 * `Schema.indexes()`).
 */
export const JOB_INDEXES: ReadonlyArray<readonly [Record<string, 1 | -1>, Record<string, unknown>]> = [
  // A client's jobs, and one user's, newest first with the id settling ties (the job search,
  // GET /v1/jobs): a page is read in index order, never sorted in memory. The first supersedes
  // the earlier `client_created` (client_id, created_at), which a deployment may drop.
  [{ client_id: 1, created_at: -1, _id: -1 }, { name: 'client_created_id' }],
  [{ client_id: 1, user_id: 1, created_at: -1, _id: -1 }, { name: 'client_user_created' }],
  // Finished jobs by outcome and time (reports, reaping, operators' queries, the spend rebuilt
  // after Redis lost its data), and the few unfinished ones (recovery, by status).
  [{ status: 1, completed_at: -1 }, { name: 'status_completed' }],
  // The A/B report: one feature's experiment, per variant, over a time window.
  [{ feature: 1, 'experiment.id': 1, 'experiment.variant': 1, completed_at: -1 }, { name: 'feature_experiment_completed' }],
  // The A/B report as the API serves it: one client's jobs of one experiment since a date.
  [{ client_id: 1, 'experiment.id': 1, created_at: -1 }, { name: 'client_experiment_created' }],
  // The operator's report: every client's jobs of one experiment since a date.
  [{ 'experiment.id': 1, created_at: -1 }, { name: 'experiment_created' }],
  // Retention: expireAfterSeconds 0 deletes a document once its own `expires_at` has passed.
  // The retention lives in each document's date, not in the index, so changing retention_days
  // never conflicts with the index that already exists (MongoDB refuses to redefine an index).
  [{ expires_at: 1 }, { name: 'retention_ttl', expireAfterSeconds: 0 }],
];

/**
 * Builds the mongoose schema for job documents. `strict: false` keeps fields a newer gateway adds;
 * `minimize: false` keeps empty objects (`metadata: {}`); no `__v`; indexes are built by init(),
 * never implicitly.
 */
export function createJobSchema(): Schema<JobDocument> {
  const mixed = Schema.Types.Mixed;
  const schema = new Schema<JobDocument>(
    {
      _id: { type: String, required: true },
      request_id: String,
      client_id: { type: String, required: true },
      status: { type: String, required: true },
      feature: { type: String, required: true },
      prompt_version: String,
      experiment: mixed,
      provider: String,
      model: String,
      result: mixed,
      usage: mixed,
      cost_usd: Number,
      cache: String,
      degraded: Boolean,
      attempts: Number,
      provider_attempts: mixed,
      error: mixed,
      latency_ms: mixed,
      user_id: String,
      metadata: mixed,
      created_at: String,
      started_at: String,
      completed_at: String,
      expires_at: Date,
    },
    { strict: false, minimize: false, versionKey: false, autoIndex: false, autoCreate: false, id: false },
  );
  for (const [keys, options] of JOB_INDEXES) schema.index(keys, options);
  return schema;
}

/**
 * The date a record saved at `now` expires, or undefined when `retentionDays` is 0 (keep
 * forever). Counted from the save, not from the record's own timestamps, so a record carrying an
 * old or wrong `created_at` is not deleted the moment it is written.
 */
export function expiresAt(now: Date, retentionDays: number): Date | undefined {
  return retentionDays > 0 ? new Date(now.getTime() + retentionDays * DAY_MS) : undefined;
}

/** The document stored for `job` when saved at `now` with `retentionDays` (0 = no expiry). */
export function toJobDocument(job: JobRecord, now: Date, retentionDays: number): JobDocument {
  const { id, ...fields } = job;
  const doc: JobDocument & Record<string, unknown> = { _id: id, ...fields };
  // A caller's stray keys must not pose as ours.
  delete doc.expires_at;
  const expires = expiresAt(now, retentionDays);
  if (expires) doc.expires_at = expires;
  return doc;
}

/**
 * The JobRecord a stored document holds: `_id` becomes `id`; `expires_at` and `__v` are dropped;
 * any other field (including ones a newer gateway wrote) passes through, as with SQLite's JSON.
 * Throws GatewayError `store_corrupt_record` when the document has no string `_id`.
 */
export function fromJobDocument(doc: Record<string, unknown>): JobRecord {
  const { _id, expires_at: _expires, __v: _version, id: _stray, ...fields } = doc;
  if (typeof _id !== 'string') {
    throw new GatewayError('store_corrupt_record', 'A job document in MongoDB has no string _id: it was not written by the gateway.');
  }
  return { id: _id, ...fields } as JobRecord;
}

/** Feedback as stored in MongoDB: the record with `_id` = the job id, plus its expiry date. */
export type FeedbackDocument = Omit<FeedbackRecord, 'job_id'> & { _id: string; expires_at?: Date };

/** The indexes of the feedback collection, in the shape of JOB_INDEXES. */
export const FEEDBACK_INDEXES: ReadonlyArray<readonly [Record<string, 1 | -1>, Record<string, unknown>]> = [
  // A client's feedback (exports, erasure requests).
  [{ client_id: 1 }, { name: 'client' }],
  // Feedback is kept as long as the jobs it rates, by the same per-document expiry.
  [{ expires_at: 1 }, { name: 'retention_ttl', expireAfterSeconds: 0 }],
];

/** Builds the mongoose schema for feedback documents (same options as createJobSchema). */
export function createFeedbackSchema(): Schema<FeedbackDocument> {
  const schema = new Schema<FeedbackDocument>(
    {
      _id: { type: String, required: true },
      client_id: { type: String, required: true },
      rating: { type: Number, required: true, min: 1, max: 5 },
      helpful: { type: Boolean, default: null },
      comment: { type: String, default: null },
      created_at: { type: String, required: true },
      expires_at: Date,
    },
    { strict: false, minimize: false, versionKey: false, autoIndex: false, autoCreate: false, id: false },
  );
  for (const [keys, options] of FEEDBACK_INDEXES) schema.index(keys, options);
  return schema;
}

/** The document stored for `feedback` when saved at `now` with `retentionDays` (0 = no expiry). */
export function toFeedbackDocument(feedback: FeedbackRecord, now: Date, retentionDays: number): FeedbackDocument {
  const doc: FeedbackDocument = {
    _id: feedback.job_id,
    client_id: feedback.client_id,
    rating: feedback.rating,
    helpful: feedback.helpful,
    comment: feedback.comment,
    created_at: feedback.created_at,
  };
  const expires = expiresAt(now, retentionDays);
  if (expires) doc.expires_at = expires;
  return doc;
}

/** The FeedbackRecord a stored document holds. Throws `store_corrupt_record` without a string `_id`. */
export function fromFeedbackDocument(doc: Record<string, unknown>): FeedbackRecord {
  if (typeof doc._id !== 'string') {
    throw new GatewayError('store_corrupt_record', 'A feedback document in MongoDB has no string _id: it was not written by the gateway.');
  }
  return {
    job_id: doc._id,
    client_id: String(doc.client_id),
    rating: Number(doc.rating),
    helpful: typeof doc.helpful === 'boolean' ? doc.helpful : null,
    comment: typeof doc.comment === 'string' ? doc.comment : null,
    created_at: String(doc.created_at),
  };
}

/**
 * The aggregation behind experimentRows: the client's jobs (every client's when `clientId` is
 * null) of the experiment since `sinceIso` (served by the client_experiment_created index, or
 * experiment_created), each job's rating looked up by `_id` in the feedback collection, projected
 * to the row's fields. Missing fields stay missing; the adapter normalises them with
 * toExperimentRow. Values are matched with `$eq`, so a caller's string is never read as a query
 * operator.
 */
export function experimentRowsPipeline(clientId: string | null, experimentId: string, sinceIso: string): PipelineStage[] {
  const fields: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(EXPERIMENT_ROW_PATHS)) fields[name] = `$${path}`;
  // A job without a user is its own unit; a stored document keeps the job id as `_id` (toJobDocument), not `id`.
  fields['unit'] = { $ifNull: [`$${EXPERIMENT_ROW_PATHS.unit}`, '$_id'] };
  const client = clientId === null ? {} : { client_id: { $eq: clientId } };
  return [
    { $match: { ...client, 'experiment.id': { $eq: experimentId }, created_at: { $gte: sinceIso } } },
    // Only what the report reads travels on: never the answer text.
    { $project: { ...fields, _id: 1, client_id: 1 } },
    { $lookup: { from: FEEDBACK_COLLECTION, localField: '_id', foreignField: '_id', as: 'feedback' } },
    {
      $project: {
        ...Object.fromEntries(Object.keys(EXPERIMENT_ROW_PATHS).map((name) => [name, 1])),
        _id: 0,
        // The rating only counts when the feedback belongs to the job's own client.
        rating: {
          $let: {
            vars: { f: { $arrayElemAt: ['$feedback', 0] } },
            in: { $cond: [{ $eq: ['$$f.client_id', '$client_id'] }, '$$f.rating', null] },
          },
        },
      },
    },
  ];
}

/**
 * The aggregation behind spentMicros: terminal records completed in [`fromIso`, `toIso`) (served by
 * the status_completed index), each cost rounded to micro-dollars, summed into one `micros` field.
 */
export function spentMicrosPipeline(terminal: readonly string[], fromIso: string, toIso: string): PipelineStage[] {
  return [
    { $match: { status: { $in: [...terminal] }, completed_at: { $gte: fromIso, $lt: toIso } } },
    { $group: { _id: null, micros: { $sum: { $round: [{ $multiply: [{ $ifNull: ['$cost_usd', 0] }, 1_000_000] }, 0] } } } },
  ];
}

/**
 * The aggregation behind finishedRows: terminal records completed in [`fromIso`, `toIso`), newest
 * first, at most `limit` (served by the status_completed index), projected to the row's fields.
 */
export function finishedRowsPipeline(terminal: readonly string[], fromIso: string, toIso: string, limit: number): PipelineStage[] {
  const fields: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(FINISHED_ROW_PATHS)) fields[name] = `$${path}`;
  return [
    { $match: { status: { $in: [...terminal] }, completed_at: { $gte: fromIso, $lt: toIso } } },
    { $sort: { completed_at: -1 } },
    { $limit: limit },
    { $project: { ...fields, _id: 0 } },
  ];
}
