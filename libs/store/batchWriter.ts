import type { JobRecord, JobStore } from './types.ts';

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
 */
export class BatchWriter {
  readonly #store: JobStore;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #pending: Array<{ record: JobRecord; resolve: () => void; reject: (e: unknown) => void }> = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: JobStore, options: BatchWriterOptions = {}) {
    this.#store = store;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 0;
  }

  /** Queues a record for the next batch; resolves when it is written. */
  save(record: JobRecord): Promise<void> {
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
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.#store.saveMany(batch.map((p) => p.record));
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    });
    return this.#flushing;
  }
}
