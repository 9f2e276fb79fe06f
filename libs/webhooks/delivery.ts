/**
 * One webhook delivery attempt, as the webhook Worker runs it: sign, POST, record the attempt on
 * the job, and tell BullMQ whether to retry. Any 2xx delivers; 410 stops for good; anything else
 * (another status, a 3xx since redirects are not followed, no answer) is retried on the backoff
 * schedule, and the last failure leaves the delivery dead-lettered (BullMQ's failed set), from
 * where replayWebhook can send it again.
 *
 * A client with no secret configured gets no webhook: sending it unsigned would teach receivers to
 * accept forgeries. The attempt records `webhook_secret_missing` and the delivery is dead-lettered
 * at once; configure the secret, then replay.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { isGatewayError } from '../errors/index.ts';
import { signPayload } from './sign.ts';
import { parseCallbackUrl } from './ssrf.ts';
import { httpSender, WEBHOOK_TIMEOUT, type WebhookSender } from './send.ts';
import type { WebhookAttempt, WebhookJobData, WebhookState, WebhookStateFields, WebhookStatus } from './types.ts';

/** Milliseconds one attempt may take, answer included. Default 10000. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** What processWebhookJob needs from its process. */
export interface WebhookDeliveryDeps {
  /** The client's `whsec_` secrets (two during rotation), or [] when none is configured. */
  secrets: (clientId: string) => readonly string[];
  /** Lower-case hosts exempt from the https and address rules (GATEWAY_CALLBACK_ALLOWLIST). */
  allowlist: readonly string[];
  /** Persists one attempt and the state after it (webhookStateStore(...).recordAttempt). */
  recordAttempt: (jobId: string, attempt: WebhookAttempt, state: WebhookStateFields) => Promise<void>;
  /** When given, a delivery whose state already says delivered is not sent again (a double enqueue). */
  loadState?: (jobId: string) => Promise<WebhookState | null>;
  /** Default httpSender (node:http, no redirects, connect-time address check). */
  send?: WebhookSender;
  /** Milliseconds per attempt. Default 10000. */
  timeoutMs?: number;
  /** Logs every attempt (info when delivered, warn otherwise) and every dead letter (warn); bound to the job and request ids. */
  log?: Logger;
  /** Told once a delivery has ended (delivered, gone, dead-lettered), e.g. to write its telemetry line; must not throw. */
  onEnded?: (ended: WebhookEnded) => void;
  now?: () => Date;
}

/** A delivery that has ended, as told to WebhookDeliveryDeps.onEnded. */
export interface WebhookEnded {
  jobId: string;
  webhookId: string;
  requestId: string | null;
  /** `delivered`, `failed_permanently` (410) or `dead_letter`. */
  status: Exclude<WebhookStatus, 'pending'>;
  /** Attempts made, this one included (a replay counts from 1 again). */
  attempts: number;
  /** The last answer's HTTP status, 0 for none. */
  httpStatus: number;
  /** The last failure (`<code>: <message>`), null when delivered. */
  error: string | null;
}

/** What a finished webhook job returns. */
export interface WebhookOutcome {
  status: 'delivered' | 'already_delivered';
  /** The receiver's answer; absent when already delivered. */
  httpStatus?: number;
}

/** How one attempt went, and what follows from it. */
export interface AttemptVerdict {
  /** delivered; gone (410); permanent (cannot succeed by retrying); retry. */
  kind: 'delivered' | 'gone' | 'permanent' | 'retry';
  /** `<code>: <message>` for anything but delivered. */
  error?: string;
}

// Failures no retry can fix: the operator must change configuration, then replay.
const PERMANENT_CODES = new Set(['webhook_secret_missing', 'webhook_secret_invalid', 'callback_url_invalid', 'callback_url_insecure', 'callback_url_forbidden']);

/** Classifies an attempt from the receiver's status (0: none) or the error that stopped it. */
export function classifyAttempt(status: number, failure?: { code?: string; message: string }): AttemptVerdict {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone', error: 'webhook_gone: the receiver answered 410 Gone; no further attempts.' };
  if (status >= 300 && status < 400) return { kind: 'retry', error: `webhook_redirect_refused: status ${status}; redirects are not followed.` };
  if (status > 0) return { kind: 'retry', error: `webhook_http_error: status ${status}.` };
  const code = failure?.code ?? '';
  if (PERMANENT_CODES.has(code)) return { kind: 'permanent', error: `${code}: ${failure?.message ?? ''}` };
  if (code === WEBHOOK_TIMEOUT) return { kind: 'retry', error: `${WEBHOOK_TIMEOUT}: ${failure?.message ?? ''}` };
  return { kind: 'retry', error: `webhook_connection_failed: ${failure?.message || code || 'no answer'}` };
}

/** The delivery status after an attempt with this verdict; `last` when no attempt follows. */
export function statusAfter(verdict: AttemptVerdict, last: boolean): WebhookStatus {
  if (verdict.kind === 'delivered') return 'delivered';
  if (verdict.kind === 'gone') return 'failed_permanently';
  if (verdict.kind === 'permanent' || last) return 'dead_letter';
  return 'pending';
}

/** Runs one attempt of a webhook job (the BullMQ processor of WEBHOOK_QUEUE). */
export async function processWebhookJob(job: Job<WebhookJobData>, deps: WebhookDeliveryDeps): Promise<WebhookOutcome> {
  const { jobId, clientId, webhookId, url, payload } = job.data;
  if (deps.loadState && (await deps.loadState(jobId))?.status === 'delivered') return { status: 'already_delivered' };

  const now = deps.now ?? (() => new Date());
  const at = now();
  const started = performance.now();
  let status = 0;
  let failure: { code?: string; message: string } | undefined;
  try {
    // Checked again at every attempt: the allowlist or the secrets may have changed since submission.
    const target = parseCallbackUrl(url, deps.allowlist);
    const body = JSON.stringify(payload);
    const headers = signPayload({ id: webhookId, timestampSeconds: at.getTime() / 1000, body, secrets: deps.secrets(clientId) });
    const res = await (deps.send ?? httpSender)({
      url: target.url,
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'llm-gateway-webhooks/1' },
      body,
      timeoutMs: deps.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      allowlisted: target.allowlisted,
    });
    status = res.status;
  } catch (err) {
    failure = describe(err);
  }

  const verdict = classifyAttempt(status, failure);
  const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const state = statusAfter(verdict, last);
  const attempt: WebhookAttempt = { at: at.toISOString(), status, latency_ms: Math.round(performance.now() - started) };
  if (verdict.error) attempt.error = verdict.error;
  await deps.recordAttempt(jobId, attempt, { webhook_id: webhookId, url, status: state, delivered_at: state === 'delivered' ? now().toISOString() : null });
  logAttempt(job, { status, state, verdict, attempt: job.attemptsMade + 1, latencyMs: attempt.latency_ms }, deps);

  if (verdict.kind === 'delivered') return { status: 'delivered', httpStatus: status };
  // UnrecoverableError sends the job straight to BullMQ's failed set: the dead letter.
  if (verdict.kind !== 'retry') throw new UnrecoverableError(verdict.error);
  throw new Error(verdict.error);
}

/** Logs one attempt, and the end of the delivery when it ended; never the body or the signature. */
function logAttempt(job: Job<WebhookJobData>, a: { status: number; state: WebhookStatus; verdict: AttemptVerdict; attempt: number; latencyMs: number }, deps: WebhookDeliveryDeps): void {
  const { jobId, webhookId, url } = job.data;
  const requestId = job.data.requestId ?? null;
  const fields = { event: 'webhook_attempt', jobId, requestId, webhookId, host: hostOf(url), attempt: a.attempt, httpStatus: a.status, error: a.verdict.error ?? null, durationMs: a.latencyMs, outcome: a.state };
  if (a.state === 'delivered') deps.log?.info(fields, 'webhook delivered');
  else if (a.state === 'pending') deps.log?.warn(fields, 'webhook attempt failed; retrying');
  else deps.log?.warn({ ...fields, event: 'webhook_dead_letter' }, a.state === 'dead_letter' ? 'webhook dead-lettered: replay it once the receiver is fixed' : 'webhook stopped: the receiver answered 410 Gone');
  if (a.state !== 'pending') deps.onEnded?.({ jobId, webhookId, requestId, status: a.state, attempts: a.attempt, httpStatus: a.status, error: a.verdict.error ?? null });
}

// Only the host: a callback URL's path or query may carry the client's own tokens.
function hostOf(url: string): string {
  return URL.parse(url)?.host ?? 'invalid-url';
}

function describe(err: unknown): { code?: string; message: string } {
  if (isGatewayError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { code, message: err.message } : { message: err.message };
  }
  return { message: String(err) };
}
