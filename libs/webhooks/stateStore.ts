/**
 * Each job's webhook state in Redis, beside the queues: a hash `{prefix}:webhook:<jobId>` for the
 * status fields and a list `{prefix}:webhook:<jobId>:attempts` of JSON attempts. Kept apart from
 * the result store so that deliveries never race the pipeline's writes; GET /v1/jobs/:id merges it
 * in. Appending is one MULTI, so no attempt is lost even when a replay and a retry overlap.
 */
import type { RedisClient } from '../redis/client.ts';
import { queuePrefix } from '../queue/jobs.ts';
import type { WebhookAttempt, WebhookState, WebhookStateFields, WebhookStatus } from './types.ts';

/** Seconds a webhook state is kept after its last attempt. Default 7 days. */
export const WEBHOOK_STATE_TTL_SECONDS = 7 * 24 * 3600;

/** Attempts kept per job (the most recent). 50. */
export const MAX_RECORDED_ATTEMPTS = 50;

const STATUSES: readonly WebhookStatus[] = ['pending', 'delivered', 'failed_permanently', 'dead_letter'];

/** The Redis key of a job's webhook state hash (`{prefix}` hash tag, so Cluster-safe). */
export function webhookStateKey(prefix: string, jobId: string): string {
  return `${queuePrefix(prefix)}:webhook:${jobId}`;
}

/** Appends one attempt and sets the status fields, renewing the TTL (seconds, default 7 days). */
export async function recordWebhookAttempt(
  redis: RedisClient,
  prefix: string,
  jobId: string,
  attempt: WebhookAttempt,
  state: WebhookStateFields,
  ttlSeconds = WEBHOOK_STATE_TTL_SECONDS,
): Promise<void> {
  const key = webhookStateKey(prefix, jobId);
  const list = `${key}:attempts`;
  await redis
    .multi()
    .hset(key, { webhook_id: state.webhook_id, url: state.url, status: state.status, delivered_at: state.delivered_at ?? '' })
    .rpush(list, JSON.stringify(attempt))
    .ltrim(list, -MAX_RECORDED_ATTEMPTS, -1)
    .expire(key, ttlSeconds)
    .expire(list, ttlSeconds)
    .exec();
}

/** A job's webhook state, or null when no attempt was made yet (or it expired). */
export async function getWebhookState(redis: RedisClient, prefix: string, jobId: string): Promise<WebhookState | null> {
  const key = webhookStateKey(prefix, jobId);
  const replies = await redis.multi().hgetall(key).lrange(`${key}:attempts`, 0, -1).exec();
  const fields = (replies?.[0]?.[1] ?? {}) as Record<string, string>;
  const attempts = (replies?.[1]?.[1] ?? []) as string[];
  if (!fields.webhook_id) return null;
  return {
    webhook_id: fields.webhook_id,
    url: fields.url ?? '',
    status: STATUSES.find((s) => s === fields.status) ?? 'pending',
    attempts: attempts.map((a) => JSON.parse(a) as WebhookAttempt),
    delivered_at: fields.delivered_at || null,
  };
}

/** recordAttempt and loadState bound to one connection and prefix, as processWebhookJob takes them. */
export function webhookStateStore(redis: RedisClient, prefix: string): {
  recordAttempt: (jobId: string, attempt: WebhookAttempt, state: WebhookStateFields) => Promise<void>;
  loadState: (jobId: string) => Promise<WebhookState | null>;
} {
  return {
    recordAttempt: (jobId, attempt, state) => recordWebhookAttempt(redis, prefix, jobId, attempt, state),
    loadState: (jobId) => getWebhookState(redis, prefix, jobId),
  };
}
