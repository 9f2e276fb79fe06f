/**
 * Reads the gateway's own settings out of a `mongodb://` / `mongodb+srv://` DATABASE_URL.
 *
 * The gateway understands one query parameter of its own, which is stripped before the URL reaches
 * the MongoDB driver (the driver would warn about, or refuse, an option it does not know):
 *
 *   `retention_days=N`  keep each job record N whole days after its last save, then let MongoDB's
 *                       TTL monitor delete it; `0` keeps records forever. Default 90.
 *
 * Example: `mongodb://user:pw@db1:27017,db2:27017/gateway?replicaSet=rs0&retention_days=30`.
 * Every other parameter is passed to the driver untouched. Error messages never repeat the URL,
 * because it may carry a password.
 */
import { GatewayError } from '../errors/index.ts';

/** Days a job record is kept when DATABASE_URL does not say (`retention_days`). */
export const DEFAULT_RETENTION_DAYS = 90;

/** The largest accepted `retention_days` (100 years): beyond it a date would be meaningless. */
export const MAX_RETENTION_DAYS = 36_500;

/** The database used when the URL names none (mongoose would otherwise pick `test`). */
export const DEFAULT_MONGO_DATABASE = 'gateway';

/** The gateway's reading of a MongoDB DATABASE_URL. */
export interface MongoUrlSettings {
  /** The connection string for the driver: the input without the gateway's own parameters or a fragment. */
  url: string;
  /** The database named in the URL's path (percent-decoded), or null when the path is empty. */
  dbName: string | null;
  /** `retention_days` from the URL (0 = keep forever), or null when the URL does not set it. */
  retentionDays: number | null;
}

const RETENTION_PARAM = 'retention_days';

// scheme, then userinfo and hosts (everything up to the first '/', '?' or '#'; a password must be
// percent-encoded, as the MongoDB connection string spec requires), then path, query, fragment.
const MONGO_URL = /^(mongodb(?:\+srv)?:\/\/)([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?(?:#.*)?$/i;

/**
 * Splits a `mongodb://` or `mongodb+srv://` URL into the driver's connection string, the database
 * name and the retention setting. Throws GatewayError `invalid_database_url` (500) for a URL with
 * no host, an undecodable database name, or a bad or repeated `retention_days`.
 */
export function parseMongoUrl(input: string): MongoUrlSettings {
  const match = MONGO_URL.exec(input.trim());
  if (!match) throw invalid('it is not a mongodb:// or mongodb+srv:// URL');
  const [, scheme = '', authority = '', path = '', query] = match;
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  if (hosts === '') throw invalid('the MongoDB URL names no host');

  let retentionDays: number | null = null;
  const kept: string[] = [];
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq), 'a query parameter name');
    // Driver options are case-insensitive; treat ours the same way so RETENTION_DAYS is not
    // silently handed to the driver.
    if (key.toLowerCase() !== RETENTION_PARAM) {
      kept.push(pair);
      continue;
    }
    if (retentionDays !== null) throw invalid(`${RETENTION_PARAM} is given more than once`);
    retentionDays = parseRetentionDays(eq < 0 ? '' : safeDecode(pair.slice(eq + 1), RETENTION_PARAM));
  }

  const dbPath = path.slice(1);
  const dbName = dbPath === '' ? null : safeDecode(dbPath, 'the database name');
  const url = `${scheme}${authority}${path}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
  return { url, dbName, retentionDays };
}

/**
 * Parses a `retention_days` value: a whole number of days from 0 (keep forever) to
 * MAX_RETENTION_DAYS. Throws GatewayError `invalid_database_url` (500) otherwise.
 */
export function parseRetentionDays(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) {
    throw invalid(`${RETENTION_PARAM} must be a whole number of days (0 keeps records forever), not "${text.slice(0, 20)}"`);
  }
  return checkRetentionDays(Number(text));
}

/** Checks a retention given in code (options): whole days, 0..MAX_RETENTION_DAYS. Returns it. */
export function checkRetentionDays(days: number): number {
  if (!Number.isSafeInteger(days) || days < 0 || days > MAX_RETENTION_DAYS) {
    throw invalid(`${RETENTION_PARAM} must be a whole number of days from 0 (keep forever) to ${MAX_RETENTION_DAYS}, not ${days}`);
  }
  return days;
}

function safeDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(`${what} is not valid percent-encoding`);
  }
}

function invalid(why: string): GatewayError {
  return new GatewayError(
    'invalid_database_url',
    `Invalid DATABASE_URL: ${why}. Use mongodb://[user:password@]host[:port][,host...]/database[?options][&retention_days=90].`,
    { status: 500 },
  );
}
