/**
 * The MongoDB queries behind JobStore.searchJobs, built from the search. Pure, so they can be
 * tested without a server.
 */
import type { PipelineStage } from 'mongoose';
import type { JobSearchQuery } from './types.ts';

/** The queries of one search; see searchQueries. */
export interface MongoSearch {
  /** Up to `limit + 1` matching documents, newest first. */
  page: PipelineStage[];
  /** With a scan limit and filters outside the index: the last document the page examined (by `_id` and `created_at`), if any. */
  scanEnd?: PipelineStage[];
}

const SORT = { created_at: -1, _id: -1 } as const;

/**
 * The search as aggregations over the client_user_created index (with a user) or
 * client_created_id: the first $match, $sort and $limit run on the index; status and metadata are
 * matched on at most `scanLimit` documents when one is given. Every value is matched with `$eq` /
 * `$in`, so a caller's string is never read as a query operator; metadata keys are safe field
 * names (search.ts allows [A-Za-z0-9_-] only).
 */
export function searchQueries(query: JobSearchQuery): MongoSearch {
  const base: Record<string, unknown> = { client_id: { $eq: query.clientId } };
  if (query.userId !== undefined) base.user_id = { $eq: query.userId };
  const created: Record<string, string> = {};
  if (query.since !== undefined) created.$gte = query.since;
  if (query.until !== undefined) created.$lt = query.until;
  if (query.after !== undefined) created.$lte = query.after.created_at;
  if (Object.keys(created).length > 0) base.created_at = created;
  if (query.after !== undefined) {
    // Older, or as old with a smaller id: the jobs after the cursor in (created_at, _id) order.
    base.$or = [{ created_at: { $lt: query.after.created_at } }, { _id: { $lt: query.after.id } }];
  }
  const residual: Record<string, unknown> = {};
  if (query.statuses !== undefined) residual.status = { $in: [...query.statuses] };
  for (const [key, value] of Object.entries(query.metadata ?? {})) residual[`metadata.${key}`] = { $eq: value };
  const filtered = Object.keys(residual).length > 0;
  if (!filtered || query.scanLimit === undefined) {
    return { page: [{ $match: { ...base, ...residual } }, { $sort: SORT }, { $limit: query.limit + 1 }] };
  }
  return {
    page: [{ $match: base }, { $sort: SORT }, { $limit: query.scanLimit }, { $match: residual }, { $limit: query.limit + 1 }],
    scanEnd: [{ $match: base }, { $sort: SORT }, { $skip: query.scanLimit - 1 }, { $limit: 1 }, { $project: { _id: 1, created_at: 1 } }],
  };
}
