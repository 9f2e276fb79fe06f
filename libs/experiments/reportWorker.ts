/**
 * The report thread's entry (started by ReportThread): opens its own store from the API's
 * DATABASE_URL (its own SQLite connection to the same file, or its own MongoDB connection) on the
 * first request, then answers each `{ id, request }` message with `{ id, ok, report | error }`.
 * Reading a month of rows and the statistics take seconds of CPU: here they never hold up the
 * API's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isGatewayError } from '../errors/index.ts';
import { openJobStore } from '../store/open.ts';
import type { JobStore } from '../store/types.ts';
import { analyseExperiment } from './report.ts';
import { buildReport } from './reportRequest.ts';
import { seededExperimentRows, twoVariantExperiment } from './sampleRows.ts';
import type { ReportThreadReply, ReportThreadMessage } from './reportThread.ts';


/** Made-up rows the thread analyses once when it starts, so the first real report runs compiled code. */
const WARM_UP_ROWS = 20_000;

const { databaseUrl } = workerData as { databaseUrl: string };
let store: Promise<JobStore> | undefined;
warmUp();

function storeOnce(): Promise<JobStore> {
  // A failed open is tried again by the next request (the database may be back by then).
  store ??= openJobStore(databaseUrl).catch((e: unknown) => {
    store = undefined;
    throw e;
  });
  return store;
}

parentPort!.on('message', (message: ReportThreadMessage) => {
  if (message.kind === 'close') {
    void (store ?? Promise.resolve(undefined))
      .then((s) => s?.close())
      .catch(() => undefined)
      .finally(() => parentPort!.close());
    return;
  }
  void storeOnce()
    .then((s) => buildReport(s, message.request))
    .then(
      (report): ReportThreadReply => ({ id: message.id, ok: true, report }),
      (e: unknown): ReportThreadReply => ({ id: message.id, ok: false, error: errorData(e) }),
    )
    .then((reply) => parentPort!.postMessage(reply));
});

/**
 * Opens the store and runs one report over made-up rows before the first request is read: a
 * fresh thread otherwise spends about a second of its first report loading modules, preparing
 * statements and running cold code. Best effort: a failure here is met again, and reported, by
 * the first request.
 */
function warmUp(): void {
  const since = new Date(0).toISOString();
  analyseExperiment('warm-up', twoVariantExperiment(), seededExperimentRows(WARM_UP_ROWS), new Date(), { since });
  void storeOnce()
    .then((s) => s.experimentRows(null, 'warm-up', new Date().toISOString()))
    .catch(() => undefined);
}

/** A GatewayError's fields (an Error does not cross threads with its own properties). */
function errorData(e: unknown): Extract<ReportThreadReply, { ok: false }>['error'] {
  if (isGatewayError(e)) return { code: e.code, message: e.message, status: e.status, details: e.details, retryAfterSeconds: e.retryAfterSeconds };
  return { code: 'report_failed', message: `The report could not be built: ${e instanceof Error ? e.message : String(e)}.`, status: 500, details: [] };
}
