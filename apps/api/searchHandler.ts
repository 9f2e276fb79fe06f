import { GatewayError, isGatewayError } from '../../libs/errors/index.ts';
import { publicJob } from '../../libs/jobs/view.ts';
import { SEARCH_SCAN_LIMIT, encodeCursor, parseJobSearch } from '../../libs/jobs/search.ts';
import type { ApiDeps, HandlerResult } from './handlers.ts';

/**
 * GET /v1/jobs: one page of the client's jobs from the result store, newest first, with the
 * cursor of the next page (null on the last). A page whose status or metadata filters match
 * rarely may hold fewer jobs than asked, even none, and still name a next page. Statuses are the
 * stored ones: a job in flight reads as its intake record says until it ends (GET /v1/jobs/:id
 * tells its live state). Store failures answer 503 `store_unavailable`.
 */
export async function searchJobs(deps: Pick<ApiDeps, 'store'>, clientId: string, rawQuery: Record<string, unknown>): Promise<HandlerResult> {
  const query = parseJobSearch(clientId, rawQuery);
  // The scan limit bounds the work of a page whose status or metadata filters match rarely.
  const page = await deps.store.searchJobs({ ...query, scanLimit: SEARCH_SCAN_LIMIT }).catch((cause: unknown) => {
    throw isGatewayError(cause)
      ? cause
      : new GatewayError('store_unavailable', 'The result store did not answer the search; retry shortly.', { status: 503, retryAfterSeconds: 2, cause });
  });
  const next = page.resumeAfter ? encodeCursor(page.resumeAfter) : null;
  return { status: 200, body: { jobs: page.jobs.map((record) => publicJob(record)), next_cursor: next } };
}
