/** The A/B endpoints: a user's rating of a job, and the experiment report built from them. */
import { GatewayError } from '../../libs/errors/index.ts';
import { reportSince } from '../../libs/experiments/report.ts';
import type { ReportRunner } from '../../libs/experiments/reportRequest.ts';
import { feedbackFor, notCompleted, publicFeedback, validateFeedback } from '../../libs/jobs/feedback.ts';
import { statusFromQueueState } from '../../libs/jobs/view.ts';
import { assertJobId, notFound, type ApiDeps, type HandlerResult } from './handlers.ts';

/**
 * POST /v1/jobs/:id/feedback: records (or replaces) the rating of a completed job; 201 with it.
 * 400 `invalid_body`, 404 `job_not_found` (missing or another client's), 409 `job_not_completed`.
 */
export async function postFeedback(deps: ApiDeps, clientId: string, id: string, body: unknown): Promise<HandlerResult> {
  assertJobId(id);
  const input = validateFeedback(body);
  let stored = await deps.store.get(clientId, id);
  if (!stored) {
    // Not stored yet: either still in the queue (it exists, but has no answer to rate) or unknown.
    const job = await deps.queue.getJob(id);
    if (!job || job.data.clientId !== clientId) throw notFound(id);
    const state = await job.getState();
    // Finished between the two reads: its record may have landed meanwhile.
    if (state === 'completed' || state === 'failed') stored = await deps.store.get(clientId, id);
    if (!stored) throw notCompleted(id, state === 'completed' ? 'still being saved' : statusFromQueueState(state));
  }
  const feedback = feedbackFor(stored, input, deps.now?.() ?? new Date());
  await deps.store.saveFeedback(feedback);
  return { status: 201, body: publicFeedback(feedback) };
}

/** What a report request needs: the config, the clock, and where reports are built. */
export interface ReportDeps {
  config: ApiDeps['config'];
  now?: ApiDeps['now'];
  /** Builds the report (on the report thread in the API; in process for an in-memory store). */
  reports: ReportRunner;
}

/**
 * GET /v1/experiments/:id/report[?since=ISO date]: the A/B analysis of the jobs of `clientId`
 * (every client's when null: the operator's view) created since then (default 30 days ago).
 * 404 `experiment_not_found` for an experiment not in the running config; 400 `invalid_query`
 * for a bad `since`; 503 `report_busy` / `report_timeout` / `report_failed` from the report thread.
 */
export async function getExperimentReport(deps: ReportDeps, clientId: string | null, experimentId: string, query: { since?: unknown }): Promise<HandlerResult> {
  const experiments = deps.config().abTests.experiments;
  // hasOwn: an id like "constructor" must not find Object.prototype's.
  const experiment = Object.hasOwn(experiments, experimentId) ? experiments[experimentId] : undefined;
  if (!experiment) {
    throw new GatewayError('experiment_not_found', `No experiment ${JSON.stringify(experimentId.slice(0, 100))} is configured. Known experiments: ${Object.keys(experiments).join(', ') || 'none'}.`, {
      status: 404,
    });
  }
  const now = deps.now?.() ?? new Date();
  const since = reportSince(query.since, now);
  const report = await deps.reports.run({ clientId, experimentId, experiment, since, now: now.toISOString() });
  return { status: 200, body: report };
}
