/** Types shared by webhook signing, delivery and the state shown on a job. */

/** Where a job's webhook delivery stands. `failed_permanently`: the receiver answered 410 Gone. */
export type WebhookStatus = 'pending' | 'delivered' | 'failed_permanently' | 'dead_letter';

/** One delivery attempt. */
export interface WebhookAttempt {
  /** ISO time the attempt started. */
  at: string;
  /** HTTP status the receiver answered, or 0 when there was no answer (refused, timeout, not sent). */
  status: number;
  /** `<code>: <message>` when the attempt did not deliver, e.g. `webhook_http_error: status 500`. */
  error?: string;
  /** Milliseconds from the start of the attempt to the end of the answer (or the failure). */
  latency_ms: number;
}

/** A job's webhook delivery as GET /v1/jobs/:id shows it (JobRecord.webhook). */
export interface WebhookState {
  /** The Standard Webhooks `webhook-id`: the same across attempts and replays. */
  webhook_id: string;
  url: string;
  status: WebhookStatus;
  /** Every attempt so far, oldest first (the most recent 50 are kept). */
  attempts: WebhookAttempt[];
  /** ISO time of the delivering attempt, or null. */
  delivered_at: string | null;
}

/** The state without its attempt history: what each attempt writes beside the attempt it appends. */
export type WebhookStateFields = Omit<WebhookState, 'attempts'>;

/** Event types a webhook announces. */
export type WebhookEventType = 'job.completed' | 'job.failed' | 'job.rejected';

/** The webhook body (README, "Webhooks"). `data` is the public job, as GET /v1/jobs/:id shows it. */
export interface WebhookPayload {
  type: WebhookEventType;
  /** ISO time of the event (when the job ended), not of the attempt. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** What a BullMQ job of the webhook queue carries: everything one attempt needs. */
export interface WebhookJobData {
  /** The LLM job this webhook announces. */
  jobId: string;
  /** Owner of the job; selects the signing secrets. */
  clientId: string;
  webhookId: string;
  url: string;
  payload: WebhookPayload;
  /** The LLM job's request id, for the delivery's log lines (absent on deliveries queued before it existed). */
  requestId?: string;
}
