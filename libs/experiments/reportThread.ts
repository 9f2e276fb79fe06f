/**
 * Experiment reports built off the API's event loop: one long-lived worker thread per API process,
 * started on the first request, with its own store connection. Requests wait in a short FIFO
 * queue and are sent to the thread one at a time, so a report that runs too long can be stopped
 * (the thread is ended and a fresh one started) without losing the others.
 */
import { Worker } from 'node:worker_threads';
import { GatewayError, isGatewayError, type ErrorDetail } from '../errors/index.ts';
import { parseDatabaseUrl } from '../store/open.ts';
import type { JobStore } from '../store/types.ts';
import { inProcessReports, type ReportRequest, type ReportRunner } from './reportRequest.ts';
import type { ExperimentReport } from './reportTypes.ts';

/** Requests that may wait behind the running one before more are refused with 503 `report_busy`. */
export const DEFAULT_MAX_WAITING_REPORTS = 4;
/** Milliseconds a request may take, waiting included, before it is answered 503 `report_timeout`. */
export const DEFAULT_REPORT_TIMEOUT_MS = 30_000;

/** What the API sends the thread. */
export type ReportThreadMessage = { kind: 'report'; id: number; request: ReportRequest } | { kind: 'close' };

/** What the thread answers, per request id. */
export type ReportThreadReply =
  | { id: number; ok: true; report: ExperimentReport }
  | { id: number; ok: false; error: { code: string; message: string; status: number; details: ErrorDetail[]; retryAfterSeconds?: number | undefined } };

/** Options for ReportThread. */
export interface ReportThreadOptions {
  /** The API's DATABASE_URL: the thread opens its own store from it. */
  databaseUrl: string;
  /** @defaultValue DEFAULT_MAX_WAITING_REPORTS (4) */
  maxWaiting?: number;
  /** Milliseconds; @defaultValue DEFAULT_REPORT_TIMEOUT_MS (30000) */
  timeoutMs?: number;
  /** The thread's entry script. @defaultValue reportWorker.ts beside this file */
  entry?: URL;
}

interface Pending {
  id: number;
  request: ReportRequest;
  resolve: (report: ExperimentReport) => void;
  reject: (e: GatewayError) => void;
  timer: NodeJS.Timeout;
}

/** A ReportRunner on a worker thread (see the file comment). */
export class ReportThread implements ReportRunner {
  readonly #options: Required<Omit<ReportThreadOptions, 'entry'>> & { entry: URL };
  readonly #waiting: Pending[] = [];
  #running: Pending | undefined;
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;

  constructor(options: ReportThreadOptions) {
    this.#options = {
      databaseUrl: options.databaseUrl,
      maxWaiting: options.maxWaiting ?? DEFAULT_MAX_WAITING_REPORTS,
      timeoutMs: options.timeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS,
      entry: options.entry ?? new URL('./reportWorker.ts', import.meta.url),
    };
  }

  run(request: ReportRequest): Promise<ExperimentReport> {
    if (this.#closed) return Promise.reject(unavailable('shutting_down', 'The API is shutting down; ask again in a moment.', 1));
    if (this.#waiting.length >= this.#options.maxWaiting) {
      return Promise.reject(
        unavailable('report_busy', `${this.#waiting.length} reports are already waiting to be built; ask again in a few seconds.`, 5),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = { id: this.#nextId++, request, resolve, reject, timer: setTimeout(() => this.#timedOut(pending), this.#options.timeoutMs) };
      this.#waiting.push(pending);
      this.#next();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const left = [...this.#waiting.splice(0), ...(this.#running ? [this.#running] : [])];
    this.#running = undefined;
    for (const p of left) this.#settle(p, unavailable('shutting_down', 'The API is shutting down; ask again in a moment.', 1));
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    // Let the thread close its store; end it anyway if it does not within a second.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'close' } satisfies ReportThreadMessage);
    const force = setTimeout(() => void worker.terminate(), 1000);
    await exited;
    clearTimeout(force);
  }

  /** Sends the next waiting request to the thread, when it is idle. */
  /** Starts the thread now, so its warm-up is done before the first report is asked for. */
  warm(): void {
    if (!this.#closed) this.#thread();
  }

  #next(): void {
    if (this.#running || this.#closed) return;
    const pending = this.#waiting.shift();
    if (!pending) return;
    this.#running = pending;
    try {
      this.#thread().postMessage({ kind: 'report', id: pending.id, request: pending.request } satisfies ReportThreadMessage);
    } catch (e) {
      // The thread could not be started (or the request not sent): answer this one, try the next.
      this.#running = undefined;
      this.#settle(pending, unavailable('report_failed', `The report thread could not take the request (${e instanceof Error ? e.message : String(e)}); ask again.`, 1, e));
      this.#next();
    }
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#options.entry, { workerData: { databaseUrl: this.#options.databaseUrl } });
    // The API's shutdown closes it; it alone must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: ReportThreadReply) => this.#answered(reply));
    worker.on('error', (e) => this.#lost(worker, e));
    worker.on('exit', (code) => this.#lost(worker, new Error(`the report thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #answered(reply: ReportThreadReply): void {
    const pending = this.#running;
    if (!pending || pending.id !== reply.id) return; // a request already answered by its timeout
    this.#running = undefined;
    if (reply.ok) this.#settle(pending, reply.report);
    else this.#settle(pending, new GatewayError(reply.error.code, reply.error.message, { status: reply.error.status, details: reply.error.details, ...(reply.error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: reply.error.retryAfterSeconds }) }));
    this.#next();
  }

  /** The thread crashed or exited: its request is answered 503, the next request starts a new thread. */
  #lost(worker: Worker, cause: Error): void {
    if (this.#worker !== worker) return; // one this runner ended itself
    this.#worker = undefined;
    const pending = this.#running;
    this.#running = undefined;
    if (pending) this.#settle(pending, unavailable('report_failed', `The report thread stopped while building this report (${cause.message}); ask again.`, 1, cause));
    this.#next();
  }

  #timedOut(pending: Pending): void {
    const error = unavailable('report_timeout', `The report took longer than ${this.#options.timeoutMs} ms; ask for a shorter window (since) or try again later.`, 30);
    const at = this.#waiting.indexOf(pending);
    if (at >= 0) {
      this.#waiting.splice(at, 1);
    } else if (this.#running === pending) {
      // The only way to stop a computation in progress: end the thread; the next request starts another.
      this.#running = undefined;
      const worker = this.#worker;
      this.#worker = undefined;
      void worker?.terminate();
    } else return;
    this.#settle(pending, error);
    this.#next();
  }

  #settle(pending: Pending, outcome: ExperimentReport | GatewayError): void {
    clearTimeout(pending.timer);
    if (isGatewayError(outcome)) pending.reject(outcome);
    else pending.resolve(outcome);
  }
}

function unavailable(code: string, message: string, retryAfterSeconds: number, cause?: unknown): GatewayError {
  return new GatewayError(code, message, { status: 503, retryAfterSeconds, cause });
}

/**
 * The report runner for the API process: a ReportThread on the same DATABASE_URL, or reports
 * built in process when the store is SQLite `:memory:` (a private database no thread can open).
 */
export function reportRunnerFor(databaseUrl: string, store: Pick<JobStore, 'experimentRows'>, options: Omit<ReportThreadOptions, 'databaseUrl'> = {}): ReportRunner {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite' && target.path === ':memory:') return inProcessReports(store);
  return new ReportThread({ ...options, databaseUrl });
}
