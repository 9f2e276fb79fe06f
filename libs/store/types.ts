/** The job record and the JobStore port every result-store adapter implements. */
import type { WebhookState } from '../webhooks/types.ts';

export type JobStatus = 'queued' | 'active' | 'completed' | 'failed' | 'rejected' | 'cancelled';

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

/** A job as the API shows it (DESIGN, "A job"). Field names are the wire names. */
export interface JobRecord {
  id: string;
  client_id: string;
  status: JobStatus;
  feature: string;
  prompt_version: string | null;
  experiment: { id: string; variant: string } | null;
  provider: string | null;
  model: string | null;
  result: { text: string } | null;
  usage: { input_tokens: number; output_tokens: number } | null;
  cost_usd: number | null;
  cache: 'hit' | 'miss' | null;
  degraded: boolean;
  /** Which path answered (absent on records written before it existed). */
  served_by?: ServedBy | null;
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
}

/**
 * Where finished jobs live. Adapters: SQLite (default) and, later, MongoDB. Methods are async so
 * that a networked adapter fits the same port.
 */
export interface JobStore {
  /** Creates the schema if needed. Safe to call more than once. */
  init(): Promise<void>;
  /** Inserts or replaces the record with this id (a retried job overwrites its earlier record). */
  save(job: JobRecord): Promise<void>;
  /** Saves many records in one transaction. */
  saveMany(jobs: JobRecord[]): Promise<void>;
  /** The record, or null. Scoped to a client so one client never sees another's job. */
  get(clientId: string, id: string): Promise<JobRecord | null>;
  /** Records in `ids` (any client); for reports and tests. */
  getMany(ids: string[]): Promise<JobRecord[]>;
  /** Answers true when the store can be used (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
