import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../../libs/redis/client.ts';
import { GatewayError } from '../../libs/errors/index.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import type { JobStore } from '../../libs/store/types.ts';
import { LLM_JOB_OPTIONS, type LlmJobData } from '../../libs/queue/jobs.ts';
import { validateSubmission } from '../../libs/jobs/submission.ts';
import { publicJob, recordFromQueuedJob } from '../../libs/jobs/view.ts';
import { claimIdempotencyKey, idempotencyClaimKey, idempotentJobId, releaseIdempotencyKey, validateIdempotencyKey } from '../../libs/jobs/idempotency.ts';
import type { IntakeUndo } from '../../libs/jobs/intakeUndo.ts';
import { isRedisUnavailable } from '../../libs/redis/connection.ts';
import { isIssuedJobId } from '../../libs/jobs/jobId.ts';
import { getWebhookState } from '../../libs/webhooks/stateStore.ts';
import type { JobRecord } from '../../libs/store/types.ts';
import type { IntakeGuards } from './guards.ts';

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
  config: () => GatewayConfig;
  /** Redis for the API's own keys (idempotency), under `prefix`. */
  redis: RedisClient;
  /** The braced key prefix, e.g. `{bull}`. */
  prefix: string;
  guards: IntakeGuards;
  /** Undoes a submission whose claim or enqueue Redis did not answer in time; without it nothing is undone. */
  undo?: IntakeUndo;
  now?: () => Date;
}

/** POST /v1/jobs: validate, enqueue, answer 202 with the job's id and where to poll it. */
export async function submitJob(deps: ApiDeps, clientId: string, body: unknown, idempotencyKey?: string): Promise<HandlerResult> {
  await deps.guards.rateLimit(clientId);
  const { submission } = validateSubmission(body, deps.config().features);
  const key = idempotencyKey === undefined ? undefined : validateIdempotencyKey(idempotencyKey);
  await deps.guards.budgetOpen(submission.feature);
  if (submission.callback_url) await deps.guards.callbackAllowed(clientId, submission.callback_url);
  let id: string = randomUUID();
  if (key !== undefined) {
    id = idempotentJobId(clientId, key);
    const claim = await claimIdempotencyKey(deps.redis, deps.prefix, clientId, key, body).catch((error: unknown) => {
      // The claim may still be written when Redis resumes: forget it then, or a retry would replay a job that never was.
      if (isRedisUnavailable(error)) void deps.undo?.start(deps.queue, id, { added: false, claimKey: idempotencyClaimKey(deps.prefix, id) });
      throw error;
    });
    // The same key and body again: the same job, never a second one.
    if (!claim.fresh) return accepted(id, { 'idempotent-replayed': 'true' });
  }
  const data: LlmJobData = {
    clientId,
    feature: submission.feature,
    input: submission.input,
    userId: submission.user_id,
    callbackUrl: submission.callback_url ?? null,
    metadata: submission.metadata ?? null,
    createdAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  try {
    await deps.queue.add('llm', data, { ...LLM_JOB_OPTIONS, jobId: id });
  } catch (error) {
    if (isRedisUnavailable(error)) {
      // Answered 503, yet the add may still run when Redis resumes: remove the job behind it.
      void deps.undo?.start(deps.queue, id, { added: true, ...(key !== undefined ? { claimKey: idempotencyClaimKey(deps.prefix, id) } : {}) });
    } else if (key !== undefined) {
      // Not queued: the key must not answer "already accepted" to the client's retry.
      await releaseIdempotencyKey(deps.redis, deps.prefix, id).catch(() => undefined);
    }
    throw error;
  }
  return accepted(id);
}

function accepted(id: string, headers: Record<string, string> = {}): HandlerResult {
  return {
    status: 202,
    body: { id, status: 'queued', links: { self: `/v1/jobs/${id}` } },
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

/** GET /v1/jobs/:id: the stored result, or the live queue state of a job still in flight. */
export async function getJob(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  assertJobId(id);
  const stored = await deps.store.get(clientId, id);
  if (stored) return { status: 200, body: publicJob(await withWebhook(deps, stored)) };
  const job = await deps.queue.getJob(id);
  // Another client's job answers exactly like a missing one.
  if (!job || job.data.clientId !== clientId) throw notFound(id);
  const state = await job.getState();
  const again = state === 'completed' || state === 'failed' ? await deps.store.get(clientId, id) : null;
  if (again) return { status: 200, body: publicJob(await withWebhook(deps, again)) };
  const record = recordFromQueuedJob(id, job.data, state, { attemptsMade: job.attemptsMade, processedOn: job.processedOn });
  return { status: 200, body: publicJob(record) };
}

/** DELETE /v1/jobs/:id: cancels a job still waiting in the queue; 409 once it runs or has ended. */
export async function cancelJob(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  assertJobId(id);
  const stored = await deps.store.get(clientId, id);
  if (stored) throw notCancellable(id, stored.status);
  const job = await deps.queue.getJob(id);
  if (!job || job.data.clientId !== clientId) throw notFound(id);
  const state = await job.getState();
  if (!['waiting', 'delayed', 'prioritized', 'paused'].includes(state)) throw notCancellable(id, state);
  // A job waiting again after a crash or retry may already hold a paid answer: it will complete.
  if (job.data.answer) throw notCancellable(id, 'answered');
  try {
    // Refused by BullMQ when a worker has just locked the job: then it is running, not cancelled.
    await job.remove();
  } catch {
    throw notCancellable(id, 'active');
  }
  const now = (deps.now?.() ?? new Date()).toISOString();
  const record = { ...recordFromQueuedJob(id, job.data, state, { attemptsMade: job.attemptsMade }), status: 'cancelled' as const, completed_at: now };
  await deps.store.save(record);
  return { status: 200, body: publicJob(record) };
}

const notCancellable = (id: string, state: string) =>
  new GatewayError('job_not_cancellable', `Job "${id}" is ${state} and can no longer be cancelled; only queued jobs can.`, { status: 409 });
