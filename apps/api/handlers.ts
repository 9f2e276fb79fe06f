import type { ReportRunner } from '../../libs/experiments/reportRequest.ts';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../../libs/redis/client.ts';
import { GatewayError, isGatewayError } from '../../libs/errors/index.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import { isTerminalStatus, type JobStore, type SaveOutcome } from '../../libs/store/types.ts';
import { LLM_JOB_OPTIONS, LLM_QUEUE, type LlmJobData } from '../../libs/queue/jobs.ts';
import { validateSubmission, type Submission } from '../../libs/jobs/submission.ts';
import { publicJob, recordFromQueuedJob, type PublicJob } from '../../libs/jobs/view.ts';
import { readWaiting } from '../../libs/jobs/waiting.ts';
import {
  claimIdempotencyKey,
  idempotencyClaimKey,
  idempotencyKeyReused,
  idempotentJobId,
  releaseIdempotencyKey,
  restoreIdempotencyClaim,
  validateIdempotencyKey,
} from '../../libs/jobs/idempotency.ts';
import { intakeRecord } from '../../libs/jobs/intakeRecord.ts';
import type { IntakeUndo } from '../../libs/jobs/intakeUndo.ts';
import { isRedisUnavailable } from '../../libs/redis/connection.ts';
import { isIssuedJobId, newJobId } from '../../libs/jobs/jobId.ts';
import { getWebhookState } from '../../libs/webhooks/stateStore.ts';
import type { JobRecord } from '../../libs/store/types.ts';
import type { IntakeGuards } from './guards.ts';
import { jobEvent } from '../../libs/telemetry/jobEvent.ts';
import { releaseLaneHold, takeOutOfLane, type LaneCancelDeps } from '../../libs/batch/cancel.ts';

/** A handler's answer; only apps/api/app.ts turns it into an HTTP response. */
export interface HandlerResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What the handlers need; each process wires the real ones, tests may wire their own. */
export interface ApiDeps {
  queue: Queue<LlmJobData>;
  store: JobStore;
  /** Writes the intake records (a BatchWriter groups concurrent submissions into one transaction); default `store`. */
  intakeWriter?: { save(record: JobRecord): Promise<SaveOutcome> };
  config: () => GatewayConfig;
  /** Redis for the API's own keys (idempotency), under `prefix`. */
  redis: RedisClient;
  /** The braced key prefix, e.g. `{bull}`. */
  prefix: string;
  guards: IntakeGuards;
  /** Undoes a submission whose claim or enqueue Redis did not answer in time; without it nothing is undone. */
  undo?: IntakeUndo;
  /** Takes the telemetry line of a job cancelled here (workers write those of the jobs they end); without it none is written. */
  telemetry?: { append(line: object): unknown };
  now?: () => Date;
  /** Builds experiment reports (libs/experiments/reportThread.ts); @defaultValue built in process from `store` */
  reports?: ReportRunner;
  /** Takes a cancelled job out of the batch lane and gives its hold back; without it such a job waits for its batch. @defaultValue undefined */
  batchLane?: LaneCancelDeps;
}

/**
 * POST /v1/jobs: validate, write the job's `queued` record to the result store, enqueue, answer
 * 202 with the job's id and where to poll it. The record goes first, so that an accepted job is
 * durable before the client hears of it (the worker queues it again if Redis loses it); a job that
 * could not be enqueued has its record removed again, so that a submission answered 503 never runs.
 */
export async function submitJob(deps: ApiDeps, clientId: string, body: unknown, idempotencyKey?: string, requestId?: string): Promise<HandlerResult> {
  // The body is checked while the rate limit's round trip is in flight; the limit still counts every
  // submission, and its 429 still comes before a 400.
  const limited = deps.guards.rateLimit(clientId);
  let submission: Submission;
  let key: string | undefined;
  try {
    ({ submission } = validateSubmission(body, deps.config().features));
    key = idempotencyKey === undefined ? undefined : validateIdempotencyKey(idempotencyKey);
  } catch (invalid) {
    await limited;
    throw invalid;
  }
  await limited;
  await deps.guards.budgetOpen(submission.feature);
  if (submission.callback_url) await deps.guards.callbackAllowed(clientId, submission.callback_url);
  let id: string = newJobId();
  let print: string | undefined;
  if (key !== undefined) {
    id = idempotentJobId(clientId, key);
    const claim = await claimIdempotencyKey(deps.redis, deps.prefix, clientId, key, body).catch((error: unknown) => {
      // The claim may still be written when Redis resumes: forget it then, or a retry would replay a job that never was.
      if (isRedisUnavailable(error)) void deps.undo?.start(deps.queue, id, { added: false, claimKey: idempotencyClaimKey(deps.prefix, id) });
      throw error;
    });
    // The same key and body again: the same job, never a second one.
    if (!claim.fresh) return replayed(deps, clientId, id);
    print = claim.fingerprint;
    // A fresh claim, yet the store knows the job: Redis lost the claim (a restart without persistence).
    const earlier = await deps.store.get(clientId, id);
    if (earlier) return replayStored(deps, clientId, id, earlier, print);
  }
  const acceptedAt = deps.now?.() ?? new Date();
  const data: LlmJobData = {
    clientId,
    feature: submission.feature,
    input: submission.input,
    userId: submission.user_id,
    callbackUrl: submission.callback_url ?? null,
    metadata: submission.metadata ?? null,
    createdAt: acceptedAt.toISOString(),
    ...(submission.deadline_s === undefined ? {} : { deadlineAt: new Date(acceptedAt.getTime() + submission.deadline_s * 1000).toISOString() }),
    ...(print === undefined ? {} : { idempotencyFingerprint: print }),
    ...(requestId === undefined ? {} : { requestId }),
  };
  let saved: SaveOutcome;
  try {
    saved = await (deps.intakeWriter ?? deps.store).save(intakeRecord(id, data));
  } catch (error) {
    if (key !== undefined) await releaseIdempotencyKey(deps.redis, deps.prefix, id).catch(() => undefined);
    throw isGatewayError(error) ? error : storeUnavailable(error);
  }
  // Only a racing submission under the same key can have ended the job already.
  if (saved === 'kept_earlier') return replayed(deps, clientId, id);
  try {
    await deps.queue.add('llm', data, { ...LLM_JOB_OPTIONS, jobId: id });
  } catch (error) {
    // Answered 503 or 500: the job must not be queued again from its record.
    await deps.store.removeUnfinished(id).catch(() => undefined);
    if (isRedisUnavailable(error)) {
      // Answered 503, yet the add may still run when Redis resumes: remove the job behind it.
      void deps.undo?.start(deps.queue, id, { added: true, ...(key !== undefined ? { claimKey: idempotencyClaimKey(deps.prefix, id) } : {}) });
    } else if (key !== undefined) {
      // Not queued: the key must not answer "already accepted" to the client's retry.
      await releaseIdempotencyKey(deps.redis, deps.prefix, id).catch(() => undefined);
    }
    throw error;
  }
  return accepted(id, {}, requestId);
}

const REPLAYED = { 'idempotent-replayed': 'true' };

/** The answer to a key the store already holds a job for: that job, or 409 when the bodies differ. */
async function replayStored(deps: ApiDeps, clientId: string, id: string, earlier: JobRecord, print: string): Promise<HandlerResult> {
  const stored = earlier.idempotency_fingerprint;
  if (stored && stored !== print) {
    // The claim just taken names this body: make it name the job's own again.
    await restoreIdempotencyClaim(deps.redis, deps.prefix, id, stored);
    throw idempotencyKeyReused();
  }
  return replayed(deps, clientId, id);
}

/**
 * A replay answers 202 as the first submission did, with the job as it is now (status, result
 * when finished), not a fixed "queued": a client retrying a submission learns where its job is.
 * A job the first submission has not finished recording yet reads as queued.
 */
async function replayed(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  const current = await currentJob(deps, clientId, id);
  const answer = accepted(id, REPLAYED);
  return current ? { ...answer, body: { ...current, links: { self: `/v1/jobs/${id}` } } } : answer;
}

/** GatewayError `store_unavailable` (503): the intake record could not be written. */
const storeUnavailable = (cause: unknown) =>
  new GatewayError('store_unavailable', 'The result store did not accept the job; retry shortly.', { status: 503, retryAfterSeconds: 2, cause });

// A fresh submission answers with its own request id; a replay answers with the job itself (see replayed).
function accepted(id: string, headers: Record<string, string> = {}, requestId?: string): HandlerResult {
  return {
    status: 202,
    body: { id, ...(requestId === undefined ? {} : { request_id: requestId }), status: 'queued', links: { self: `/v1/jobs/${id}` } },
    headers: { location: `/v1/jobs/${id}`, ...headers },
  };
}

/** Adds the webhook delivery state to a finished job that asked for a callback. */
async function withWebhook(deps: ApiDeps, record: JobRecord): Promise<JobRecord> {
  if (!record.callback_url || record.status === 'cancelled') return record;
  const webhook = await getWebhookState(deps.redis, deps.prefix, record.id);
  return webhook ? { ...record, webhook } : record;
}

/** GatewayError `job_not_found` (404): for a missing job and another client's job alike. */
export const notFound = (id: string) =>
  new GatewayError('job_not_found', `No job ${JSON.stringify(id.slice(0, 100))} exists for this API key.`, { status: 404 });

/**
 * Throws `job_not_found` (404) for an id the API never issues, before it reaches Redis or the
 * store: such an id could name one of BullMQ's own keys (`events`, `wait`, …) instead of a job.
 */
export function assertJobId(id: string): void {
  if (!isIssuedJobId(id)) throw notFound(id);
}

/**
 * GET /v1/jobs/:id: the stored result of a finished job, or the live queue state of a job still in
 * flight; the store's `queued` record only when Redis no longer knows the job (it lost its data,
 * and the worker has not queued the job again yet).
 */
export async function getJob(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  assertJobId(id);
  const job = await currentJob(deps, clientId, id);
  if (!job) throw notFound(id);
  return { status: 200, body: job };
}

/** The job as GET /v1/jobs/:id shows it, or null when this client has no such job. */
async function currentJob(deps: ApiDeps, clientId: string, id: string): Promise<PublicJob | null> {
  const stored = await deps.store.get(clientId, id);
  if (stored && isTerminalStatus(stored.status)) return publicJob(await withWebhook(deps, stored));
  const job = await deps.queue.getJob(id);
  // A job that completed since the store was read has left the queue: its record has ended.
  if (!job && stored) {
    const again = await deps.store.get(clientId, id);
    return again && isTerminalStatus(again.status) ? publicJob(await withWebhook(deps, again)) : publicJob(stored);
  }
  // Another client's job answers exactly like a missing one.
  if (!job || job.data.clientId !== clientId) return stored ? publicJob(stored) : null;
  const state = await job.getState();
  const again = state === 'completed' || state === 'failed' ? await deps.store.get(clientId, id) : null;
  if (again && isTerminalStatus(again.status)) return publicJob(await withWebhook(deps, again));
  const record = recordFromQueuedJob(id, job.data, state, { attemptsMade: job.attemptsMade, processedOn: job.processedOn });
  return publicJob(record, await readWaiting(deps.redis, deps.prefix, LLM_QUEUE, id, state));
}

/** DELETE /v1/jobs/:id: cancels a job still waiting in the queue; 409 once it runs or has ended. */
export async function cancelJob(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  assertJobId(id);
  const stored = await deps.store.get(clientId, id);
  if (stored && isTerminalStatus(stored.status)) throw notCancellable(id, stored.status);
  const job = await deps.queue.getJob(id);
  if (!job || job.data.clientId !== clientId) {
    if (!stored) throw notFound(id);
    return cancelStored(deps, stored);
  }
  const state = await job.getState();
  if (!['waiting', 'delayed', 'prioritized', 'paused'].includes(state)) throw notCancellable(id, state);
  // A job waiting again after a crash or retry may already hold a paid answer: it will complete.
  if (job.data.answer) throw notCancellable(id, 'answered');
  // In the batch lane: out of it first, unless its item is at a provider (then its answer is coming, billed).
  const lane = job.data.batch?.state === 'in' && deps.batchLane ? job.data.batch : undefined;
  if (lane && (await takeOutOfLane(deps.batchLane!, id, lane)) === 'at_provider') throw notCancellable(id, 'in a batch at its provider');
  try {
    // Refused by BullMQ when a worker has just locked the job: then it is running, not cancelled
    // (a run back from the lane finds itself out of line and lines up again).
    await job.remove();
  } catch {
    throw notCancellable(id, 'active');
  }
  if (lane) await releaseLaneHold(deps.batchLane!, lane);
  const now = (deps.now?.() ?? new Date()).toISOString();
  const record = { ...recordFromQueuedJob(id, job.data, state, { attemptsMade: job.attemptsMade }), status: 'cancelled' as const, completed_at: now };
  await deps.store.save(record);
  deps.telemetry?.append(jobEvent(record));
  return { status: 200, body: publicJob(record) };
}

/**
 * Cancels a job Redis lost (it lost its data) from its stored record: the worker looks at the
 * store again before it queues such a job, and a run that started anyway cannot overwrite it.
 */
async function cancelStored(deps: ApiDeps, stored: JobRecord): Promise<HandlerResult> {
  const { intake: _intake, ...rest } = stored;
  const record: JobRecord = { ...rest, status: 'cancelled', completed_at: (deps.now?.() ?? new Date()).toISOString() };
  if ((await deps.store.save(record)) === 'kept_earlier') {
    const ended = await deps.store.get(stored.client_id, stored.id);
    throw notCancellable(stored.id, ended?.status ?? 'finished');
  }
  deps.telemetry?.append(jobEvent(record));
  return { status: 200, body: publicJob(record) };
}

const notCancellable = (id: string, state: string) =>
  new GatewayError('job_not_cancellable', `Job "${id}" is ${state} and can no longer be cancelled; only queued jobs can.`, { status: 409 });
