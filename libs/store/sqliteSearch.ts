/**
 * The SQLite statements behind JobStore.searchJobs, built from the filters a search uses. Pure, so
 * the plan each shape gets can be checked in a test (EXPLAIN QUERY PLAN).
 */
import type { JobSearchQuery } from './types.ts';

/** A statement and its parameters, in order. */
export interface SqlQuery {
  sql: string;
  params: Array<string | number>;
}

/** The statements of one search; see searchSql. */
export interface SearchStatements {
  /** Up to `limit + 1` matching records (`created_at`, `id`, `doc`), newest first. */
  page: SqlQuery;
  /**
   * With a scan limit and filters outside the index: the position (`created_at`, `id`) of the
   * last record the page examined, or no row when it examined every record left.
   */
  scanEnd?: SqlQuery;
}

const ORDER = 'ORDER BY created_at DESC, id DESC';

/**
 * The search as SQL. With a user it walks jobs_client_user_created, otherwise
 * jobs_client_created_id, backwards: both end in (created_at, id), so the order needs no sort.
 * Status and metadata are matched on the records the walk reads, at most `scanLimit` of them when
 * one is given (a co-routine over the index stops as soon as the page is full). Metadata is
 * matched in the document, string values only: a JSON number never equals a text parameter.
 */
export function searchSql(query: JobSearchQuery): SearchStatements {
  const where = ['client_id = ?'];
  const params: Array<string | number> = [query.clientId];
  if (query.userId !== undefined) {
    where.push('user_id = ?');
    params.push(query.userId);
  }
  if (query.since !== undefined) {
    where.push('created_at >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push('created_at < ?');
    params.push(query.until);
  }
  if (query.after !== undefined) {
    // `created_at <= ?` first, so the index range ends at the cursor; the OR then settles ties by id.
    where.push('created_at <= ? AND (created_at < ? OR id < ?)');
    params.push(query.after.created_at, query.after.created_at, query.after.id);
  }
  const residual: string[] = [];
  const residualParams: Array<string | number> = [];
  if (query.statuses !== undefined) {
    residual.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
    residualParams.push(...query.statuses);
  }
  for (const [key, value] of Object.entries(query.metadata ?? {})) {
    // The key is bound too: search.ts allows only [A-Za-z0-9_-] in it, which a quoted label holds as is.
    residual.push('json_extract(doc, ?) = ?');
    residualParams.push(`$.metadata."${key}"`, value);
  }
  const base = where.join(' AND ');
  if (residual.length === 0 || query.scanLimit === undefined) {
    const all = [base, ...residual].join(' AND ');
    return { page: { sql: `SELECT created_at, id, doc FROM jobs WHERE ${all} ${ORDER} LIMIT ?`, params: [...params, ...residualParams, query.limit + 1] } };
  }
  return {
    page: {
      sql: `SELECT created_at, id, doc FROM (SELECT created_at, id, status, doc FROM jobs WHERE ${base} ${ORDER} LIMIT ?) WHERE ${residual.join(' AND ')} ${ORDER} LIMIT ?`,
      params: [...params, query.scanLimit, ...residualParams, query.limit + 1],
    },
    // Index only (both indexes cover every column it reads).
    scanEnd: { sql: `SELECT created_at, id FROM jobs WHERE ${base} ${ORDER} LIMIT 1 OFFSET ?`, params: [...params, query.scanLimit - 1] },
  };
}
