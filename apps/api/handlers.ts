import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { GatewayError } from '../../libs/errors/index.ts';
import type { GatewayConfig } from '../../libs/config/types.ts';
import type { JobStore } from '../../libs/store/types.ts';
import { LLM_JOB_OPTIONS, type LlmJobData } from '../../libs/queue/jobs.ts';
import { validateSubmission } from '../../libs/jobs/submission.ts';
import { publicJob, recordFromQueuedJob } from '../../libs/jobs/view.ts';

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
  now?: () => Date;
}

/** POST /v1/jobs: validate, enqueue, answer 202 with the job's id and where to poll it. */
export async function submitJob(deps: ApiDeps, clientId: string, body: unknown): Promise<HandlerResult> {
  const { submission } = validateSubmission(body, deps.config().features);
  const id = randomUUID();
  const data: LlmJobData = {
    clientId,
    feature: submission.feature,
    input: submission.input,
    userId: submission.user_id,
    callbackUrl: submission.callback_url ?? null,
    metadata: submission.metadata ?? null,
    createdAt: (deps.now?.() ?? new Date()).toISOString(),
  };
  await deps.queue.add('llm', data, { ...LLM_JOB_OPTIONS, jobId: id });
  return {
    status: 202,
    body: { id, status: 'queued', links: { self: `/v1/jobs/${id}` } },
    headers: { location: `/v1/jobs/${id}` },
  };
}

const notFound = (id: string) =>
  new GatewayError('job_not_found', `No job "${id}" exists for this API key.`, { status: 404 });

/** GET /v1/jobs/:id: the stored result, or the live queue state of a job still in flight. */
export async function getJob(deps: ApiDeps, clientId: string, id: string): Promise<HandlerResult> {
  const stored = await deps.store.get(clientId, id);
  if (stored) return { status: 200, body: publicJob(stored) };
  const job = await deps.queue.getJob(id);
  // Another client's job answers exactly like a missing one.
  if (!job || job.data.clientId !== clientId) throw notFound(id);
  const state = await job.getState();
  const again = state === 'completed' || state === 'failed' ? await deps.store.get(clientId, id) : null;
  if (again) return { status: 200, body: publicJob(again) };
  const record = recordFromQueuedJob(id, job.data, state, { attemptsMade: job.attemptsMade, processedOn: job.processedOn });
  return { status: 200, body: publicJob(record) };
}
