/**
 * The MongoDB find behind JobStore.searchJobs: its filter and sort, built from the query. Pure,
 * so it can be tested without a server.
 */
import type { JobSearchQuery } from './types.ts';

/** A find's filter and sort. */
export interface MongoSearch {
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
}

/**
 * The search as a find, served by the client_user_created index (with a user) or
 * client_created_id. Every value is matched with `$eq` / `$in`, so a caller's string is never read
 * as a query operator; metadata keys are safe field names (search.ts allows [A-Za-z0-9_-] only).
 */
export function searchFind(query: JobSearchQuery): MongoSearch {
  const filter: Record<string, unknown> = { client_id: { $eq: query.clientId } };
  if (query.userId !== undefined) filter.user_id = { $eq: query.userId };
  if (query.statuses !== undefined) filter.status = { $in: [...query.statuses] };
  const created: Record<string, string> = {};
  if (query.since !== undefined) created.$gte = query.since;
  if (query.until !== undefined) created.$lt = query.until;
  if (query.after !== undefined) created.$lte = query.after.created_at;
  if (Object.keys(created).length > 0) filter.created_at = created;
  for (const [key, value] of Object.entries(query.metadata ?? {})) filter[`metadata.${key}`] = { $eq: value };
  if (query.after !== undefined) {
    // Older, or as old with a smaller id: the jobs after the cursor in (created_at, _id) order.
    filter.$or = [{ created_at: { $lt: query.after.created_at } }, { _id: { $lt: query.after.id } }];
  }
  return { filter, sort: { created_at: -1, _id: -1 } };
}
