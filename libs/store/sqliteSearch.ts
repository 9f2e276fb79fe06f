/**
 * The SQLite statement behind JobStore.searchJobs, built from the filters a search uses. Pure, so
 * the plan each shape gets can be checked in a test (EXPLAIN QUERY PLAN).
 */
import type { JobSearchQuery } from './types.ts';

/** A statement and its parameters, in order. */
export interface SqlQuery {
  sql: string;
  params: Array<string | number>;
}

/**
 * The search as SQL. With a user it walks jobs_client_user_created, otherwise
 * jobs_client_created_id, backwards: both end in (created_at, id), so the order needs no sort
 * and a page reads about `limit` rows plus those the other filters skip. Metadata is matched in
 * the document (string values only: a JSON number never equals a text parameter).
 */
export function searchSql(query: JobSearchQuery): SqlQuery {
  const where = ['client_id = ?'];
  const params: Array<string | number> = [query.clientId];
  if (query.userId !== undefined) {
    where.push('user_id = ?');
    params.push(query.userId);
  }
  if (query.statuses !== undefined) {
    where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
    params.push(...query.statuses);
  }
  if (query.since !== undefined) {
    where.push('created_at >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('created_at < ?');
    params.push(query.until);
  }
  for (const [key, value] of Object.entries(query.metadata ?? {})) {
    // The key is bound too: search.ts allows only [A-Za-z0-9_-] in it, which a quoted label holds as is.
    where.push(`json_extract(doc, ?) = ?`);
    params.push(`$.metadata."${key}"`, value);
  }
  if (query.after !== undefined) {
    // `created_at <= ?` first, so the index range ends at the cursor; the OR then settles ties by id.
    where.push('created_at <= ? AND (created_at < ? OR id < ?)');
    params.push(query.after.created_at, query.after.created_at, query.after.id);
  }
  params.push(query.limit);
  return { sql: `SELECT doc FROM jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`, params };
}
