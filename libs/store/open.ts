/** Chooses and opens the JobStore adapter that DATABASE_URL names. */
import { fileURLToPath } from 'node:url';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import { redactSecrets, urlSecrets } from '../telemetry/redact.ts';
import { SqliteJobStore } from './sqlite.ts';
import type { JobStore } from './types.ts';

/** The store used when DATABASE_URL is unset, relative to the working directory. */
export const DEFAULT_DATABASE_PATH = './data/gateway.sqlite';

/** What a DATABASE_URL points at. */
export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

const FORMS = 'a SQLite file path (./data/gateway.sqlite), sqlite:relative/path, sqlite:///abs/path, file:///abs/path, or a mongodb:// URL';

/**
 * Parses DATABASE_URL. Accepts a plain path, `sqlite:relative`, `sqlite:///abs`, `file:relative`,
 * `file:///abs`, `:memory:`, and `mongodb://` / `mongodb+srv://` URLs; throws GatewayError
 * `invalid_database_url` for anything else. Error messages name only the scheme, never the
 * whole URL, because URLs carry passwords.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const text = url.trim();
  if (text === '') throw invalid('DATABASE_URL is empty');
  if (text.includes('\0')) throw invalid('DATABASE_URL contains a NUL character');
  if (/^mongodb(\+srv)?:\/\//i.test(text)) return { kind: 'mongodb', url: text };
  if (/^sqlite:/i.test(text)) return { kind: 'sqlite', path: sqlitePath(text.slice('sqlite:'.length)) };
  if (/^file:/i.test(text)) return { kind: 'sqlite', path: filePath(text) };
  // Any other `scheme://`, or a well-known scheme, is a URL we do not support (a one-letter
  // "scheme" followed by `:\` or `:/` is a Windows drive, not a URL).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(text)?.[1];
  if (scheme && (/^[a-z][a-z0-9+.-]+:\/\//i.test(text) || KNOWN_SCHEMES.has(scheme.toLowerCase()))) {
    throw invalid(`the scheme "${scheme}:" is not a supported store`);
  }
  return { kind: 'sqlite', path: text };
}

const KNOWN_SCHEMES = new Set(['postgres', 'postgresql', 'mysql', 'mariadb', 'redis', 'rediss', 'http', 'https', 'mongodb']);

function sqlitePath(rest: string): string {
  if (rest.startsWith('//')) {
    // sqlite:///abs/path: an empty host, then an absolute path. A host is meaningless for a file.
    if (!rest.startsWith('///')) throw invalid('sqlite:// URLs take no host; use sqlite:///abs/path or sqlite:relative/path');
    return nonEmpty(rest.slice(2));
  }
  return nonEmpty(rest);
}

function filePath(text: string): string {
  if (/^file:\/\//i.test(text)) {
    let path: string;
    try {
      path = fileURLToPath(new URL(text));
    } catch {
      throw invalid('the file: URL is not a valid local file URL; use file:///abs/path');
    }
    return nonEmpty(path);
  }
  return nonEmpty(text.slice('file:'.length));
}

function nonEmpty(path: string): string {
  if (path === '' || path === '/') throw invalid('the URL names no file');
  return path;
}

function invalid(why: string): GatewayError {
  return new GatewayError('invalid_database_url', `Invalid DATABASE_URL: ${why}. Use ${FORMS}.`, { status: 500 });
}

/**
 * Opens the store DATABASE_URL names and calls init() on it: SQLite for a path or `sqlite:`/`file:`
 * URL, MongoDB for a `mongodb://` or `mongodb+srv://` URL (whose `?retention_days=N` sets how long
 * records are kept, default 90, 0 = forever; see mongoUrl.ts). Throws GatewayError
 * `invalid_database_url` for a malformed URL and `store_open_failed` when the store cannot be reached.
 */
export async function openJobStore(databaseUrl: string): Promise<JobStore> {
  const target = parseDatabaseUrl(databaseUrl);
  // mongoose takes about 0.3 s to load: only a MongoDB store pays for it (the report thread opens a store when it starts).
  const store = target.kind === 'mongodb' ? new (await import('./mongo.ts')).MongoJobStore(target.url) : new SqliteJobStore(target.path);
  try {
    await store.init();
  } catch (cause) {
    if (isGatewayError(cause)) throw cause;
    // A driver's own message may quote the URL, password included.
    const why = redactSecrets(cause instanceof Error ? cause.message : String(cause), urlSecrets(databaseUrl));
    throw new GatewayError('store_open_failed', `Cannot open the ${target.kind === 'mongodb' ? 'MongoDB' : 'SQLite'} store (${why}). Check DATABASE_URL and that the store is reachable.`, {
      cause,
    });
  }
  return store;
}
