/**
 * Record writes off the caller's event loop: a long-lived worker thread with its own store
 * connection to the same SQLite file, for the API's intake records. node:sqlite is synchronous, and
 * an intake write (a ~1 KB document and four index entries) costs about as much CPU as the rest of
 * a submission; on the thread it runs beside the request handling instead of stalling it.
 *
 * Saves made in one turn of the event loop travel to the thread, serialized here (serializedRecord.ts),
 * in messages of up to WRITER_CHUNK records, each written in one transaction and answered before
 * the next is read. A save
 * resolves once its record is committed, exactly as BatchWriter.save does: callers answer 202 only
 * then. If the thread dies with saves in flight, whether they were committed is unknown: their
 * records are removed through `store` (a queued record is never left behind a failed save) before
 * those saves reject; the next save starts a fresh thread.
 */
import { Worker } from 'node:worker_threads';
import { parseDatabaseUrl } from './open.ts';
import { BatchWriter } from './batchWriter.ts';
import { RecordRefusedError, type JobRecord, type JobStore, type SaveOutcome } from './types.ts';
import { serializeRecord, type SerializedRecord } from './serializedRecord.ts';

/** What the caller sends the thread: records serialized here (a string crosses threads far cheaper than an object). */
export type WriterThreadMessage = { kind: 'save'; id: number; records: SerializedRecord[] } | { kind: 'close' };

/** One record's outcome, as it crosses back (an Error does not cross threads with its own fields). */
export type WriterThreadOutcome =
  | { ok: true; outcome: SaveOutcome }
  | { ok: false; refused?: { recordIds: string[]; reason: string }; message: string };

/** The thread's answer to one save message, in the message's record order. */
export interface WriterThreadReply {
  id: number;
  outcomes: WriterThreadOutcome[];
}

/** What saves records: a BatchWriter in process, or a WriterThread. */
export interface RecordWriter {
  /** Resolves once `record` is durable, with the store's outcome (JobStore.save). */
  save(record: JobRecord): Promise<SaveOutcome>;
  /** Waits for the saves in flight, then releases what the writer holds. */
  close(): Promise<void>;
}

/** Options of WriterThread. */
export interface WriterThreadOptions {
  /** The DATABASE_URL the thread opens its own store from (a SQLite file). */
  databaseUrl: string;
  /** The caller's own store: removes the records of saves whose thread died before answering. */
  store: Pick<JobStore, 'removeUnfinished'>;
  /** The thread's entry script. @defaultValue writerThreadEntry.ts beside this file */
  entry?: URL;
  /** Most records per message, and so per transaction. @defaultValue WRITER_CHUNK (16) */
  chunk?: number;
  /** Hears of a record whose save's fate is unknown and that could not be removed either (it may run later). @defaultValue none */
  onUndoFailed?: (recordId: string, err: unknown) => void;
  /** Waits `ms` between tries of a removal; injectable for tests. @defaultValue setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** Tries of removing the record of a save whose thread died, and the wait before the second (doubled each time). */
const UNDO_TRIES = 4;
const UNDO_FIRST_DELAY_MS = 100;

/**
 * Most records the thread writes in one transaction before answering them. Under load the
 * submissions of one turn arrive together: answered in chunks, the first ones go on to Redis while
 * the thread writes the next, instead of the whole turn waiting for the last record (64
 * connections on the 2-core VM: intake at 0.50x the bare route with chunks of 8 or 16, 0.40x with
 * one transaction per turn). @defaultValue 16
 */
export const WRITER_CHUNK = 16;

interface Pending {
  record: SerializedRecord;
  resolve: (outcome: SaveOutcome) => void;
  reject: (e: unknown) => void;
}

/** A RecordWriter on a worker thread (see the file comment). */
export class WriterThread implements RecordWriter {
  readonly #options: WriterThreadOptions;
  #worker: Worker | undefined;
  #queued: Pending[] = [];
  #timer: NodeJS.Immediate | undefined;
  readonly #inFlight = new Map<number, Pending[]>();
  #nextId = 1;
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(options: WriterThreadOptions) {
    this.#options = options;
  }

  save(record: JobRecord): Promise<SaveOutcome> {
    if (this.#closed) return Promise.reject(new Error('the store writer is closed'));
    let serialized: SerializedRecord;
    try {
      serialized = serializeRecord(record);
    } catch (refused) {
      return Promise.reject(refused);
    }
    return new Promise((resolve, reject) => {
      this.#queued.push({ record: serialized, resolve, reject });
      this.#timer ??= setImmediate(() => this.#send());
    });
  }

  /** Starts the thread now, so that the first submission does not wait for it to load. */
  warm(): void {
    if (!this.#closed) this.#thread();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearImmediate(this.#timer);
    this.#send();
    if (this.#inFlight.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    // Let the thread close its store; end it anyway if it does not within a second.
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'close' } satisfies WriterThreadMessage);
    const force = setTimeout(() => void worker.terminate(), 1000);
    await exited;
    clearTimeout(force);
  }

  /** Sends the saves queued in this turn, in messages of at most `chunk` records. */
  #send(): void {
    this.#timer = undefined;
    const queued = this.#queued;
    this.#queued = [];
    const chunk = this.#options.chunk ?? WRITER_CHUNK;
    for (let i = 0; i < queued.length; i += chunk) {
      const batch = queued.slice(i, i + chunk);
      const id = this.#nextId++;
      try {
        this.#thread().postMessage({ kind: 'save', id, records: batch.map((p) => p.record) } satisfies WriterThreadMessage);
      } catch (e) {
        // Not sent (the thread could not start): nothing was written.
        for (const p of batch) p.reject(e);
        continue;
      }
      this.#inFlight.set(id, batch);
    }
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(this.#options.entry ?? new URL('./writerThreadEntry.ts', import.meta.url), { workerData: { databaseUrl: this.#options.databaseUrl, chunk: this.#options.chunk ?? WRITER_CHUNK } });
    // The process's shutdown closes it; it alone must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: WriterThreadReply) => this.#answered(reply));
    worker.on('error', (e) => void this.#lost(worker, e));
    worker.on('exit', (code) => void this.#lost(worker, new Error(`the store writer thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #answered(reply: WriterThreadReply): void {
    const batch = this.#inFlight.get(reply.id);
    if (!batch) return;
    this.#inFlight.delete(reply.id);
    batch.forEach((p, i) => {
      const o = reply.outcomes[i];
      if (o?.ok) p.resolve(o.outcome);
      else if (o?.refused) p.reject(new RecordRefusedError(o.refused.recordIds, o.refused.reason));
      else p.reject(new Error(o?.message ?? 'the store writer thread gave no answer for this record'));
    });
    this.#settledOne();
  }

  /** The thread crashed or exited: what it had not answered may or may not be committed. */
  async #lost(worker: Worker, cause: Error): Promise<void> {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    const lost = [...this.#inFlight.values()].flat();
    this.#inFlight.clear();
    // Removed before the saves fail: a caller answering 503 must leave no queued record to be run later.
    // The store's own trouble may be what killed the thread: try the removal a few times.
    await Promise.all(lost.map((p) => this.#undo(p.record.id)));
    for (const p of lost) p.reject(cause);
    this.#settledOne();
  }

  async #undo(recordId: string): Promise<void> {
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#options.store.removeUnfinished(recordId);
        return;
      } catch (err) {
        if (attempt >= UNDO_TRIES) {
          this.#options.onUndoFailed?.(recordId, err);
          return;
        }
        await sleep(UNDO_FIRST_DELAY_MS * 2 ** (attempt - 1));
      }
    }
  }

  #settledOne(): void {
    if (this.#inFlight.size === 0) this.#drained?.();
  }
}

/**
 * The intake record writer for a process: a WriterThread on a SQLite file, or a BatchWriter in
 * process for MongoDB (its I/O does not block) and for SQLite `:memory:` (no thread can open it).
 */
export function recordWriterFor(databaseUrl: string, store: JobStore, onUndoFailed?: WriterThreadOptions['onUndoFailed']): RecordWriter {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite' && target.path !== ':memory:') {
    const thread = new WriterThread({ databaseUrl, store, ...(onUndoFailed ? { onUndoFailed } : {}) });
    thread.warm();
    return thread;
  }
  const batch = new BatchWriter(store);
  return { save: (record) => batch.save(record), close: () => batch.flush() };
}
