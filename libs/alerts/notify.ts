/**
 * The Slack-compatible sink: each transition becomes a job of its own queue, posted by any worker
 * with retries and backoff, so a slow or failing receiver never holds up jobs or the evaluator.
 */
import type { JobsOptions } from 'bullmq';
import { GatewayError } from '../errors/index.ts';
import type { AlertNotice } from './transitions.ts';

/** Name of the BullMQ queue of alert notifications. */
export const ALERT_NOTIFY_QUEUE = 'alert-notify';

/** Attempts and backoff of a notification: 10 tries, 1 s doubling (about 17 minutes in all). */
export const ALERT_NOTIFY_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
};

/** Milliseconds one post may take. Default 10000. */
export const ALERT_POST_TIMEOUT_MS = 10_000;

/** The BullMQ job id of a notice: unique per transition (ids may not hold ':'). */
export function noticeJobId(notice: AlertNotice): string {
  return `alert-${notice.alert.replaceAll(':', '.')}-${notice.seq}-${Date.parse(notice.at)}`;
}

/**
 * Posts `notice` as JSON (`text` for Slack, plus the structured fields) to `url`; throws
 * `alert_webhook_failed` unless the answer is 2xx. `timeoutMs` default ALERT_POST_TIMEOUT_MS.
 */
export async function postAlert(url: string, notice: AlertNotice, timeoutMs = ALERT_POST_TIMEOUT_MS): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'llm-gateway-alerts/1' },
      body: JSON.stringify(notice),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    throw new GatewayError('alert_webhook_failed', `Alert webhook ${origin(url)} did not answer: ${(err as Error).message}`, { cause: err });
  }
  await res.body?.cancel();
  if (res.status < 200 || res.status >= 300) throw new GatewayError('alert_webhook_failed', `Alert webhook ${origin(url)} answered ${res.status}.`);
  return res.status;
}

// A Slack incoming webhook's secret is its path: only the origin may reach a log or an error.
function origin(url: string): string {
  return URL.parse(url)?.origin ?? '(invalid URL)';
}
