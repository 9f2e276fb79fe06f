import { GatewayError, isGatewayError } from '../../libs/errors/index.ts';
import { publicJob } from '../../libs/jobs/view.ts';
import { encodeCursor, parseJobSearch } from '../../libs/jobs/search.ts';
import type { ApiDeps, HandlerResult } from './handlers.ts';

/**
 * GET /v1/jobs: one page of the client's jobs from the result store, newest first, with the
 * cursor of the next page (null on the last). Statuses are the stored ones: a job in flight reads
 * as its intake record says until it ends (GET /v1/jobs/:id tells its live state).
 */
export async function searchJobs(deps: Pick<ApiDeps, 'store'>, clientId: string, rawQuery: Record<string, unknown>): Promise<HandlerResult> {
  const query = parseJobSearch(clientId, rawQuery);
  // One record more than the page tells whether another page follows, without a count query.
  const found = await deps.store.searchJobs({ ...query, limit: query.limit + 1 }).catch((cause: unknown) => {
    throw isGatewayError(cause)
      ? cause
      : new GatewayError('store_unavailable', 'The result store did not answer the search; retry shortly.', { status: 503, retryAfterSeconds: 2, cause });
  });
  const page = found.slice(0, query.limit);
  const last = page.at(-1);
  const next = found.length > query.limit && last ? encodeCursor({ created_at: last.created_at, id: last.id }) : null;
  return { status: 200, body: { jobs: page.map(publicJob), next_cursor: next } };
}
