import { RecordRefusedError, isRecordRefused, type JobRecord, type SaveOutcome } from './types.ts';

/** What a BatchWriter writes through: JobStore.saveMany, or any all-or-nothing batch save of the same contract. */
export interface BatchStore<R> {
  saveMany(records: R[]): Promise<SaveOutcome[]>;
}

interface Pending<R> {
  record: R;
  resolve: (outcome: SaveOutcome) => void;
  reject: (e: unknown) => void;
}

/** Options of the BatchWriter. */
export interface BatchWriterOptions {
  /** Most records per transaction. Default 200. */
  maxBatch?: number;
  /**
   * Milliseconds a record may wait for companions before its batch is written. Default 0: the
   * batch is written once the current turn of the event loop ends, so records finished together
   * share a transaction without waiting for each other.
   */
  maxDelayMs?: number;
}

/**
 * Groups saves from many concurrent jobs into one store transaction, so the blocking disk write
 * happens once per batch instead of once per job. `save` resolves once the record is durable.
 * A record the store refuses fails its own save with RecordRefusedError while the rest of its
 * batch is written in the same flush; a store that is unavailable fails every save of the batch.
 */
export class BatchWriter<R extends { id: string } = JobRecord> {
  readonly #store: BatchStore<R>;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #pending: Pending<R>[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: BatchStore<R>, options: BatchWriterOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
  }

  /** Queues a record for the next batch; resolves when it is written, with the store's outcome (JobStore.save). */
  save(record: R): Promise<SaveOutcome> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, resolve, reject });
      if (this.#pending.length >= this.#maxBatch) void this.flush();
      else this.#timer ??= this.#maxDelayMs > 0 ? setTimeout(() => void this.flush(), this.#maxDelayMs) : setImmediate(() => void this.flush());
    });
  }

  /** Writes everything queued so far. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
    }
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return this.#flushing;
    this.#flushing = this.#flushing.then(() => this.#write(batch));
    return this.#flushing;
  }

  /** Writes `batch`, setting refused records aside until the rest is written. Never rejects. */
  async #write(batch: Pending<R>[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const outcomes = await this.#store.saveMany(batch.map((p) => p.record));
      batch.forEach((p, i) => p.resolve(outcomes[i] ?? 'written'));
      return;
    } catch (e) {
      if (!isRecordRefused(e)) {
        for (const p of batch) p.reject(e);
        return;
      }
      const refused = batch.length === 1 ? batch : namedIn(batch, e.recordIds);
      if (refused) {
        for (const p of refused) p.reject(refusalOf(p.record.id, e));
        await yieldToEventLoop();
        await this.#write(batch.filter((p) => !refused.includes(p)));
        return;
      }
    }
    // The store could not say which record it refused: halve until each culprit is alone.
    await yieldToEventLoop();
    const half = Math.ceil(batch.length / 2);
    await this.#write(batch.slice(0, half));
    await this.#write(batch.slice(half));
  }
}

// A synchronous store (SQLite) blocks the event loop for each pass over a batch; between passes,
// let timers run (BullMQ's lock renewals above all), so several refused records cannot stall other jobs.
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The refusal of one record, naming it. */
function refusalOf(id: string, e: RecordRefusedError): RecordRefusedError {
  return e.recordIds.length === 1 && e.recordIds[0] === id ? e : new RecordRefusedError([id], e.reason, { cause: e });
}

/**
 * The saves of `batch` whose records `ids` names, or null when that names none of them, or is
 * ambiguous (one id saved twice in the batch: the store did not say which version it refused).
 */
function namedIn<R extends { id: string }>(batch: Pending<R>[], ids: readonly string[]): Pending<R>[] | null {
  const wanted = new Set(ids);
  const named = batch.filter((p) => wanted.has(p.record.id));
  if (named.length === 0 || new Set(named.map((p) => p.record.id)).size !== named.length) return null;
  return named;
}
