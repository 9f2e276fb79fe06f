/** The pure decisions of `npm run report`: what the command line asks for, and which store to read. */
import { parseArgs } from 'node:util';
import { GatewayError } from '../../libs/errors/index.ts';

/** How the report is printed. */
export type ReportFormat = 'table' | 'csv' | 'json';

/** What `npm run report -- <experiment-id> [options]` asked for. */
export interface ReportArgs {
  experiment: string;
  /** @defaultValue 'table' */
  format: ReportFormat;
  /** ISO-8601 date or date-time; undefined: the report's default window (30 days). */
  since?: string;
  /** One client's jobs only; undefined: every client's. */
  client?: string;
  /** The store's DATABASE_URL; undefined: DATABASE_URL, else the newest local store. */
  database?: string;
}

/** The usage line, shown with every command-line mistake. */
export const REPORT_USAGE = 'Usage: npm run report -- <experiment-id> [--format table|csv|json] [--since ISO-date] [--client ID] [--database URL]';

const FORMATS: readonly ReportFormat[] = ['table', 'csv', 'json'];

/** Parses the arguments after `--`. Throws GatewayError `report_usage` (exit 2) naming the mistake. */
export function parseReportArgs(argv: readonly string[]): ReportArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { format: { type: 'string', default: 'table' }, since: { type: 'string' }, client: { type: 'string' }, database: { type: 'string' } },
    });
  } catch (cause) {
    throw usage(cause instanceof Error ? cause.message : String(cause));
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'name the experiment to report on' : `one experiment at a time, not ${positionals.join(', ')}`);
  if (!(FORMATS as readonly string[]).includes(values.format)) throw usage(`--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
  return { experiment: positionals[0]!, format: values.format as ReportFormat, since: values.since, client: values.client, database: values.database };
}

/** A store file that might hold results, with its modification time (null when it does not exist). */
export interface StoreCandidate {
  path: string;
  mtimeMs: number | null;
}

/** The store to read and why it was chosen (for the line printed on stderr). */
export interface ChosenStore {
  url: string;
  source: '--database' | 'DATABASE_URL' | 'newest local store';
}

/**
 * The store to read: `--database`, else DATABASE_URL, else whichever candidate exists and was
 * modified last (the demo's or the gateway's SQLite file); null when none exists.
 */
export function chooseStore(flag: string | undefined, env: string | undefined, candidates: readonly StoreCandidate[]): ChosenStore | null {
  if (flag) return { url: flag, source: '--database' };
  if (env) return { url: env, source: 'DATABASE_URL' };
  const existing = candidates.filter((c): c is { path: string; mtimeMs: number } => c.mtimeMs !== null);
  if (existing.length === 0) return null;
  const newest = existing.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return { url: newest.path, source: 'newest local store' };
}

function usage(why: string): GatewayError {
  return new GatewayError('report_usage', `${why}.\n${REPORT_USAGE}`, { status: 400 });
}
