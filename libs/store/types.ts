/** The job record, the JobStore port every result-store adapter implements, and its errors. */
import { GatewayError } from '../errors/index.ts';
import type { WebhookState } from '../webhooks/types.ts';
import type { Category } from '../features/category.ts';

export type JobStatus = 'queued' | 'active' | 'completed' | 'failed' | 'rejected' | 'cancelled';

/** The statuses a job ends in. The first record of a job saved with one of them is final. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'rejected', 'cancelled'];

/** The statuses of a job that has not ended yet (its record may be replaced). */
export const UNFINISHED_STATUSES: readonly JobStatus[] = ['queued', 'active'];

/** True when a job in `status` has ended (see TERMINAL_STATUSES). */
export function isTerminalStatus(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * What a save did with a record: `written`, or `kept_earlier` when the store already held a
 * terminal record of that job, which stays as it was (a duplicate run never changes an outcome).
 */
export type SaveOutcome = 'written' | 'kept_earlier';

/** One call to a provider made while serving a job. */
export interface ProviderAttempt {
  provider: string;
  model: string;
  /** HTTP status, or 0 for a connection error or timeout. */
  status: number;
  errorCode?: string;
  latencyMs: number;
}

/**
 * Which path answered a job: the A/B-selected provider, a backup after failover, a cheaper model
 * chosen because the budget could not afford the variant's (`downgrade`: leave it out of A/B
 * comparisons), the response cache (fresh, or stale / same-category while providers are down), or
 * the degraded fallback.
 */
export type ServedBy = 'provider' | 'failover' | 'downgrade' | 'cache' | 'stale_cache' | 'category_cache' | 'degraded';

/** A job as the API shows it (README, "GET /v1/jobs/:id"). Field names are the wire names. */
export interface JobRecord {
  id: string;
  /** The submission's X-Request-Id, or the id the API generated (absent on records written before it existed). */
  request_id?: string | null;
  client_id: string;
  status: JobStatus;
  feature: string;
  prompt_version: string | null;
  /** The experiment the job is a unit of; `holdout` marks a unit the holdout served with the control (outside the comparison). */
  experiment: { id: string; variant: string; holdout?: boolean } | null;
  /** The request's coarse category (sector, degree level, experience band): what reports group by. Absent on older records. */
  category?: Category | null;
  provider: string | null;
  model: string | null;
  result: { text: string } | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  cost_usd: number | null;
  cache: 'hit' | 'miss' | null;
  degraded: boolean;
  /** Which path answered (absent on records written before it existed). */
  served_by?: ServedBy | null;
  /** The lane the job is answered through: `batch` (the providers' batch APIs, at the batch price) or `realtime`. Absent on older records. */
  lane?: 'realtime' | 'batch';
  /** ISO time by which the client asked for the answer (`deadline_s`); null or absent when it gave none. */
  deadline_at?: string | null;
  /** 'stop', or 'length' when the answer was cut at the output limit (then `truncated` is true). */
  finish_reason?: string | null;
  truncated?: boolean;
  attempts: number;
  provider_attempts: ProviderAttempt[];
  error: { code: string; message: string } | null;
  latency_ms: { queue: number; provider: number; total: number } | null;
  user_id: string | null;
  /** Where the result is delivered by webhook, if the client asked for it. */
  callback_url?: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Webhook delivery, merged in from the webhook state store (getWebhookState); absent or null without one. */
  webhook?: WebhookState | null;
  /**
   * What the API accepted, kept only on the `queued` record written at intake so the job can be
   * queued again if Redis loses it; never shown by the API, and a finished record drops it (the
   * store keeps no user input once a job has ended).
   */
  intake?: IntakeFacts | null;
  /** Fingerprint of the body submitted under an Idempotency-Key (idempotency.ts); never shown by the API. */
  idempotency_fingerprint?: string | null;
}

/** The part of a submission a job record does not otherwise carry (see JobRecord.intake). */
export interface IntakeFacts {
  /** The feature's input, as validated at intake. */
  input: Record<string, unknown>;
}

/** A user's rating of a completed job, for the A/B analysis; one per job (a later one replaces it). */
export interface FeedbackRecord {
  job_id: string;
  client_id: string;
  /** 1 (bad) to 5 (good). */
  rating: number;
  helpful: boolean | null;
  /** Free text, at most 2000 characters. */
  comment: string | null;
  /** ISO-8601 UTC time the feedback was given. */
  created_at: string;
}

/**
 * One job of an experiment, reduced to what the A/B report needs (see experimentRows). Fields a
 * record lacks (a failed job has no usage) are null.
 */
export interface ExperimentRow {
  variant: string;
  status: JobStatus;
  /** Null on records written before `served_by` existed, and on jobs that were never answered. */
  served_by: ServedBy | null;
  cache: 'hit' | 'miss' | null;
  degraded: boolean;
  cost_usd: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** Milliseconds. */
  provider_latency_ms: number | null;
  /** Milliseconds. */
  total_latency_ms: number | null;
  /** The job's feedback rating (1-5), or null when nobody rated it. */
  rating: number | null;
  /** Milliseconds the job waited in the queue before its (last) attempt started. */
  queue_latency_ms: number | null;
  /** ISO-8601 UTC submission time. */
  created_at: string;
  /** The assignment unit (the user id, or the job id for a request without one): SRM counts units, not jobs. */
  unit: string;
  /** The request's category (see libs/features/category.ts); `unknown` on records written before it was stored. */
  sector: string;
  degree_level: string;
  experience_band: string;
  /** True for a unit the holdout kept out of the experiment (served by the control, outside the comparison). */
  holdout: boolean;
  /** The lane that answered the job (JobRecord.lane); `realtime` on records written before lanes existed. */
  lane: 'realtime' | 'batch';
  /**
   * False for a record written before jobs carried their category and held-out units were
   * recorded: its category reads `unknown` and its unit's holdout is not known, so the
   * sample-ratio check leaves it out.
   */
  assignment_known: boolean;
}

/** A job's place in search order (created_at, then id): where the next page resumes. */
export interface JobSearchPosition {
  created_at: string;
  id: string;
}

/**
 * One page of a client's jobs (GET /v1/jobs). Every filter given must match; strings are matched
 * exactly. Times are ISO-8601 UTC as the records carry them (`toISOString()` form).
 */
export interface JobSearchQuery {
  /** Only this client's jobs, always. */
  clientId: string;
  userId?: string;
  /** Any of these statuses, as the store holds them. */
  statuses?: JobStatus[];
  /** Created at or after this time. */
  since?: string;
  /** Created before this time. */
  until?: string;
  /** Top-level metadata keys whose value is this string. Keys are letters, digits, `_` and `-`. */
  metadata?: Record<string, string>;
  /** The most records to answer. */
  limit: number;
  /**
   * The most records one call examines for the `statuses` and `metadata` filters (which no index
   * serves): a page then reads a bounded slice of the client's (or user's) jobs in the time range,
   * however rare the matches. Unbounded when absent.
   */
  scanLimit?: number;
  /** Answer only records after this position in search order (a previous page's `resumeAfter`). */
  after?: JobSearchPosition;
}

/** One page of a search. */
export interface JobSearchPage {
  /** At most `limit` records, newest first; fewer (even none) when the scan limit ended the page. */
  jobs: JobRecord[];
  /** Where the next page starts (pass it as `after`), or null when no later record matches. */
  resumeAfter: JobSearchPosition | null;
}

/**
 * One finished job reduced to what the operator dashboard reads (see finishedRows). Fields a
 * record lacks (a failed job has no cost) are null.
 */
export interface FinishedRow {
  client_id: string;
  status: JobStatus;
  provider: string | null;
  experiment_id: string | null;
  variant: string | null;
  served_by: ServedBy | null;
  cost_usd: number | null;
  /** Milliseconds. */
  provider_latency_ms: number | null;
  /** Milliseconds. */
  total_latency_ms: number | null;
  error_code: string | null;
  /** ISO-8601 UTC. */
  completed_at: string;
}

/**
 * Where finished jobs live. Adapters: SQLite (default) and MongoDB. Methods are async so
 * that a networked adapter fits the same port.
 */
export interface JobStore {
  /** Creates the schema if needed. Safe to call more than once. */
  init(): Promise<void>;
  /**
   * Inserts or replaces the record with this id (a queued or active record is replaced), unless
   * the stored one is terminal: the first terminal write of a job wins, and later saves of it
   * answer `kept_earlier` and change nothing.
   */
  save(job: JobRecord): Promise<SaveOutcome>;
  /** Saves many records in one transaction, by save()'s rule; answers each record's outcome, in order. */
  saveMany(jobs: JobRecord[]): Promise<SaveOutcome[]>;
  /** The record, or null. Scoped to a client so one client never sees another's job. */
  get(clientId: string, id: string): Promise<JobRecord | null>;
  /** Records in `ids` (any client); for reports and tests. */
  getMany(ids: string[]): Promise<JobRecord[]>;
  /** Inserts or replaces the feedback of `feedback.job_id` (one rating per job counts). */
  saveFeedback(feedback: FeedbackRecord): Promise<void>;
  /** The feedback on a job, or null. Scoped to a client like get(). */
  getFeedback(clientId: string, jobId: string): Promise<FeedbackRecord | null>;
  /**
   * One row per job of `clientId` (every client when null: the operator's report) in experiment `experimentId` created at or after `sinceIso`
   * (an ISO-8601 UTC timestamp), with the job's rating if it has feedback. In no particular order.
   */
  experimentRows(clientId: string | null, experimentId: string, sinceIso: string): Promise<ExperimentRow[]>;
  /**
   * Deletes the record of job `id` only while it is not terminal (a submission that was answered
   * 503 after its intake record was written); true when a record was deleted.
   */
  removeUnfinished(id: string): Promise<boolean>;
  /**
   * Up to `limit` records that are not terminal (queued or active, any client), with ids greater
   * than `afterId` ('' for the first page), in id order: for re-queueing what Redis lost.
   */
  unfinished(afterId: string, limit: number): Promise<JobRecord[]>;
  /**
   * What finished jobs cost, in integer micro-dollars: the sum of `cost_usd` over terminal records
   * whose `completed_at` lies in [`fromIso`, `toIso`) (ISO-8601 UTC), each rounded to micro-dollars.
   */
  spentMicros(fromIso: string, toIso: string): Promise<number>;
  /**
   * Up to `query.limit` of the client's records matching the query, newest first (created_at
   * descending, id descending among equal times), starting after `query.after`, and where the
   * next page starts.
   */
  searchJobs(query: JobSearchQuery): Promise<JobSearchPage>;
  /**
   * Up to `limit` terminal records of any client whose `completed_at` lies in [`fromIso`, `toIso`)
   * (ISO-8601 UTC), newest first, reduced to FinishedRow: the operator dashboard's recent window.
   */
  finishedRows(fromIso: string, toIso: string, limit: number): Promise<FinishedRow[]>;
  /** Answers true when the store can be used (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const refusedBrand = Symbol.for('llm-gateway.RecordRefusedError');

/**
 * The store refused these records themselves (nested too deeply, too large, a key or value it
 * cannot hold): permanent, and about them alone, so writing them again will not help and must not
 * hold back other records. Any other error a store throws means the store itself is unavailable
 * (busy, locked, I/O, network), which a later try may cure.
 */
export class RecordRefusedError extends GatewayError {
  readonly [refusedBrand] = true;
  /** Ids of the refused records; empty when the store could not tell which records of a batch it refused. */
  readonly recordIds: readonly string[];
  /** The store's own words for what it refused, e.g. `malformed JSON`. */
  readonly reason: string;

  constructor(recordIds: readonly string[], reason: string, options: { cause?: unknown } = {}) {
    const which = recordIds.length === 1 ? `the record of job ${recordIds[0]}` : recordIds.length > 1 ? `${recordIds.length} job records` : 'a job record';
    super('record_refused', `The result store refused ${which} (${reason}): it cannot hold the record as it is, so writing it again will not help.`, {
      status: 422,
      cause: options.cause,
    });
    this.name = 'RecordRefusedError';
    this.recordIds = recordIds;
    this.reason = reason;
  }
}

/** True for a RecordRefusedError, even one created by another copy of this module. */
export function isRecordRefused(e: unknown): e is RecordRefusedError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[refusedBrand] === true;
}

/**
 * How an adapter reads one failed write: the store refused the record (`reason` in its words;
 * `indexes`, when known, are the refused positions in the batch written), or the store is
 * unavailable and a later try may succeed.
 */
export type StoreFailure = { kind: 'refused'; reason: string; indexes?: number[] } | { kind: 'unavailable' };
