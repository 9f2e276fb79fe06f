/**
 * The webhook queue: enqueueing a delivery (idempotently) and replaying a dead-lettered one.
 * A delivery's BullMQ job id is its webhook id, so the same job is never queued twice at once.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { GatewayError } from '../errors/index.ts';
import { DEFAULT_WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_TYPE } from './schedule.ts';
import type { WebhookEventType, WebhookJobData } from './types.ts';

/** Name of the BullMQ queue that carries webhook deliveries. */
export const WEBHOOK_QUEUE = 'webhooks';

/** What enqueueWebhook announces. */
export interface WebhookEvent {
  jobId: string;
  clientId: string;
  /** The job's callback_url, already checked by checkCallbackUrl at submission. */
  url: string;
  type: WebhookEventType;
  /** The public job (publicJob(record)). */
  data: Record<string, unknown>;
  /** ISO time of the event. Default: now. */
  timestamp?: string;
  /** The job's request id, carried on the delivery's log lines. */
  requestId?: string;
}

/** Options of enqueueWebhook and replayWebhook. */
export interface WebhookQueueOptions {
  /** Attempts per delivery. Default DEFAULT_WEBHOOK_ATTEMPTS (8). */
  attempts?: number;
}

/**
 * The Standard Webhooks `webhook-id` of a job's webhook: `msg_<jobId>`, the same for every attempt
 * and every replay, so receivers can deduplicate. A job ends once, so it has one webhook.
 */
export function webhookIdFor(jobId: string): string {
  return `msg_${jobId}`;
}

/** BullMQ options of a delivery. Dead letters stay 7 days so operators can replay them. */
export function webhookJobOptions(webhookId: string, options: WebhookQueueOptions = {}): JobsOptions {
  return {
    jobId: webhookId,
    attempts: options.attempts ?? DEFAULT_WEBHOOK_ATTEMPTS,
    backoff: { type: WEBHOOK_BACKOFF_TYPE },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/**
 * Queues the webhook of a finished job and answers its webhook id. Queuing it again while the
 * first is still in BullMQ is a no-op (same job id); the processor also skips a delivery whose
 * state already says delivered.
 */
export async function enqueueWebhook(queue: Queue<WebhookJobData>, event: WebhookEvent, options: WebhookQueueOptions = {}): Promise<string> {
  const webhookId = webhookIdFor(event.jobId);
  const data: WebhookJobData = {
    jobId: event.jobId,
    clientId: event.clientId,
    webhookId,
    url: event.url,
    payload: { type: event.type, timestamp: event.timestamp ?? new Date().toISOString(), data: event.data },
    ...(event.requestId ? { requestId: event.requestId } : {}),
  };
  await queue.add(event.type, data, webhookJobOptions(webhookId, options));
  return webhookId;
}

/**
 * Re-queues a dead-lettered (or 410-stopped) delivery with the same webhook id and body, for a
 * fresh round of attempts. Answers the webhook id. Throws GatewayError 404 `webhook_not_found`
 * (none kept for this job: never queued, or older than 7 days) or 409 `webhook_not_replayable`
 * (still pending or delivered).
 */
export async function replayWebhook(queue: Queue<WebhookJobData>, jobId: string, options: WebhookQueueOptions = {}): Promise<string> {
  const webhookId = webhookIdFor(jobId);
  const job = await queue.getJob(webhookId);
  if (!job) throw new GatewayError('webhook_not_found', `No webhook delivery is kept for job ${jobId}.`, { status: 404 });
  const state = await job.getState();
  if (state !== 'failed') {
    throw new GatewayError('webhook_not_replayable', `The webhook of job ${jobId} is ${state}; only a dead-lettered delivery can be replayed.`, { status: 409 });
  }
  // Remove first: adding under an id that still exists would be a silent no-op.
  await job.remove();
  await queue.add(job.name, job.data, webhookJobOptions(webhookId, options));
  return webhookId;
}
