/**
 * GET /v1/jobs: the query string read into a store search, and the opaque page cursor. Pure, so
 * every refusal is tested as a table; the handler only carries the result out.
 */
import { GatewayError, type ErrorDetail } from '../errors/index.ts';
import type { JobSearchPosition, JobSearchQuery, JobStatus } from '../store/types.ts';

/** Jobs per page when `limit` is not given. */
export const SEARCH_DEFAULT_LIMIT = 50;

/** The largest `limit` a page may ask for. */
export const SEARCH_MAX_LIMIT = 200;

/**
 * The most jobs one page examines for the status and metadata filters, which no index serves. It
 * bounds what a page costs the store (SQLite blocks the API's event loop while it reads) however
 * rarely the filters match; such a page may hold fewer jobs than asked and still have a next page.
 */
export const SEARCH_SCAN_LIMIT = 1000;

/** The most `metadata.<key>` filters one search may combine. */
export const SEARCH_MAX_METADATA_FILTERS = 5;

const STATUSES: readonly JobStatus[] = ['queued', 'active', 'completed', 'failed', 'rejected', 'cancelled'];

// Keys a filter may name: safe as a MongoDB field name and inside a quoted SQLite JSON path.
const METADATA_KEY = /^[A-Za-z0-9_-]{1,100}$/;

// ISO-8601 UTC: a date, or a date and time with an optional fraction and a `Z` or offset.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

// Ids the API issues are UUIDs or idempotency ids, far shorter than this.
const MAX_ID_LENGTH = 200;
const MAX_USER_ID_LENGTH = 200;
const MAX_VALUE_LENGTH = 1000;

/**
 * Reads GET /v1/jobs's query string (as Express's simple parser gives it: a string per key, an
 * array for a repeated key) into the search of `clientId`'s jobs. Throws GatewayError
 * `invalid_query` (400, one detail per bad parameter, `path` naming it) or `invalid_cursor` (400).
 * `limit` defaults to SEARCH_DEFAULT_LIMIT (50) and is at most SEARCH_MAX_LIMIT (200).
 */
export function parseJobSearch(clientId: string, raw: Record<string, unknown>): JobSearchQuery {
  const problems: ErrorDetail[] = [];
  const query: JobSearchQuery = { clientId, limit: SEARCH_DEFAULT_LIMIT };
  const metadata: Record<string, string> = {};
  let cursor: string | undefined;
  for (const [name, value] of Object.entries(raw)) {
    const bad = (message: string) => void problems.push({ path: name, message });
    if (typeof value !== 'string') {
      bad('give this parameter once, as a plain value');
      continue;
    }
    if (name === 'user_id') {
      if (value === '' || value.length > MAX_USER_ID_LENGTH) bad(`must be 1 to ${MAX_USER_ID_LENGTH} characters`);
      else query.userId = value;
    } else if (name === 'status') {
      const statuses = value.split(',');
      const unknown = statuses.filter((s) => !STATUSES.includes(s as JobStatus));
      if (unknown.length > 0) bad(`unknown status ${JSON.stringify(unknown[0])}: use one or more of ${STATUSES.join(', ')}, separated by commas`);
      else query.statuses = [...new Set(statuses as JobStatus[])];
    } else if (name === 'since' || name === 'until') {
      const time = isoTime(value);
      if (time === null) bad('must be an ISO-8601 time, e.g. 2025-03-01T00:00:00Z or 2025-03-01');
      else query[name] = time;
    } else if (name === 'limit') {
      const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
      if (!(limit >= 1 && limit <= SEARCH_MAX_LIMIT)) bad(`must be a whole number from 1 to ${SEARCH_MAX_LIMIT}`);
      else query.limit = limit;
    } else if (name === 'cursor') {
      cursor = value;
    } else if (name.startsWith('metadata.')) {
      const key = name.slice('metadata.'.length);
      if (!METADATA_KEY.test(key)) bad('a metadata key of 1 to 100 letters, digits, "_" or "-"');
      else if (value.length > MAX_VALUE_LENGTH) bad(`the value must be at most ${MAX_VALUE_LENGTH} characters`);
      else metadata[key] = value;
    } else {
      bad('unknown parameter: use user_id, status, since, until, metadata.<key>, limit or cursor');
    }
  }
  const keys = Object.keys(metadata);
  if (keys.length > SEARCH_MAX_METADATA_FILTERS) problems.push({ path: 'metadata', message: `at most ${SEARCH_MAX_METADATA_FILTERS} metadata filters` });
  else if (keys.length > 0) query.metadata = metadata;
  if (query.since !== undefined && query.until !== undefined && query.since >= query.until) {
    problems.push({ path: 'until', message: 'must be later than since' });
  }
  if (problems.length > 0) {
    throw new GatewayError('invalid_query', `Invalid search parameter ${problems.map((p) => p.path).join(', ')}: ${problems[0]!.message}.`, {
      status: 400,
      details: problems,
    });
  }
  if (cursor !== undefined) query.after = decodeCursor(cursor);
  return query;
}

/** The opaque cursor of the page that follows `last` (base64url of its creation time and id). */
export function encodeCursor(last: JobSearchPosition): string {
  return Buffer.from(JSON.stringify([last.created_at, last.id]), 'utf8').toString('base64url');
}

/** The position a cursor names; throws GatewayError `invalid_cursor` (400) for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): JobSearchPosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,1000}$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalidCursor();
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== 'string' || !ISO_TIME.test(createdAt)) throw invalidCursor();
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) throw invalidCursor();
  return { created_at: createdAt, id };
}

const invalidCursor = () =>
  new GatewayError('invalid_cursor', 'The cursor is not one this API issued: pass `next_cursor` from the previous page unchanged, or leave it out for the first page.', {
    status: 400,
    details: [{ path: 'cursor', message: 'not a cursor this API issued' }],
  });

/**
 * `value` as the store writes times (toISOString: `YYYY-MM-DDTHH:mm:ss.sssZ`, which sorts as a
 * string), or null when it is not an ISO-8601 time.
 */
function isoTime(value: string): string | null {
  if (!ISO_TIME.test(value)) return null;
  // Date.parse rolls 2025-02-30 over to March instead of refusing it.
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d || m < 1 || m > 12) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
