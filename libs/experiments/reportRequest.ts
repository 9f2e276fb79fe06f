/**
 * One experiment report to build: what the API decided (which client, which window, the config's
 * experiment as of the request) and the one function that turns it into the report, wherever it
 * runs (the report thread, or in process for an in-memory store).
 */
import type { Experiment } from '../config/types.ts';
import type { ExperimentRow, JobStore } from '../store/types.ts';
import { analyseExperiment } from './report.ts';
import type { ExperimentReport } from './reportTypes.ts';

/** A report to build; plain data, so it crosses to the report thread as it is. */
export interface ReportRequest {
  /** The client whose jobs count, or null for every client's (the operator's view). */
  clientId: string | null;
  experimentId: string;
  /** The experiment as configured when the request arrived (one config snapshot per request). */
  experiment: Experiment;
  /** ISO-8601 UTC start of the window: jobs created at or after it count. */
  since: string;
  /** ISO-8601 UTC time the report is as of. */
  now: string;
}


/** Builds a report somewhere: in a worker thread (ReportThread) or in this one (inProcessReports). */
export interface ReportRunner {
  /** The report of `request`; rejects with a GatewayError (503 `report_busy`, `report_timeout`, ...) when it cannot. */
  run(request: ReportRequest): Promise<ExperimentReport>;
  /** Gets ready for the first request now (starts and warms the report thread), not when it comes. @defaultValue no-op */
  warm?(): void;
  /** Stops taking requests and frees what the runner holds. */
  close(): Promise<void>;
}

/** A store that can hand rows over one at a time (SQLite); the others answer them all at once. */
type StreamingStore = Pick<JobStore, 'experimentRows'> & { eachExperimentRow?: (clientId: string | null, experimentId: string, sinceIso: string) => Iterable<ExperimentRow> };

/** Reads the request's rows from `store` and analyses them, streamed when the store can. */
export async function buildReport(store: StreamingStore, request: ReportRequest): Promise<ExperimentReport> {
  const rows = store.eachExperimentRow
    ? store.eachExperimentRow(request.clientId, request.experimentId, request.since)
    : await store.experimentRows(request.clientId, request.experimentId, request.since);
  return analyseExperiment(request.experimentId, request.experiment, rows, new Date(request.now), { since: request.since });
}

/**
 * Reports built on this thread, from `store`: for a store no other thread can open (SQLite
 * `:memory:` is private to its connection), so tests and throwaway runs still answer reports.
 */
export function inProcessReports(store: Pick<JobStore, 'experimentRows'>): ReportRunner {
  return { run: (request) => buildReport(store, request), close: async () => {} };
}
