/**
 * The store writer thread's entry (started by WriterThread): opens its own store from the
 * process's DATABASE_URL and answers each `{ id, records }` message with each record's outcome,
 * once written. Records of messages that arrive together share one transaction (BatchWriter).
 * A checkpoint thread beside it copies the WAL into the file every 100 ms (sqliteCheckpoint.ts),
 * so that the checkpoint a commit here still runs once the log passes 1000 pages finds almost
 * nothing left to copy, instead of stalling every submission in flight while the disk syncs.
 */
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { openJobStore, parseDatabaseUrl } from './open.ts';
import { BatchWriter } from './batchWriter.ts';
import { SqliteJobStore } from './sqlite.ts';
import { isRecordRefused, type JobRecord, type JobStore } from './types.ts';
import type { SerializedRecord } from './serializedRecord.ts';
import type { WriterThreadMessage, WriterThreadOutcome, WriterThreadReply } from './writerThread.ts';

/** Milliseconds before a checkpoint thread that stopped is started again. */
const CHECKPOINT_RESTART_MS = 1000;
/**
 * Milliseconds between background checkpoints. Measured on the 2-core VM, 64 saves in flight:
 * 100 keeps the log under 10 MB and the slowest save under 25 ms (no checkpoint thread: 7,400
 * saves/s, the slowest 230 ms; a writer that never checkpoints itself lets the log grow without
 * end under a steady stream, since a passive checkpoint never catches up with it).
 */
const CHECKPOINT_INTERVAL_MS = 100;

const { databaseUrl, chunk } = workerData as { databaseUrl: string; chunk?: number };
const target = parseDatabaseUrl(databaseUrl);
let opened: Promise<{ store: JobStore; writer: BatchWriter<SerializedRecord> }> | undefined;
let checkpointer: Worker | undefined;
let closing = false;

async function open(): Promise<JobStore> {
  if (target.kind !== 'sqlite') return openJobStore(databaseUrl);
  const store = new SqliteJobStore(target.path);
  await store.init();
  startCheckpointer(target.path);
  return store;
}

/** The checkpoint thread; started again if it stops (the commits here would then stall again). */
function startCheckpointer(path: string): void {
  if (checkpointer || closing) return;
  const worker = new Worker(new URL('./sqliteCheckpointThread.ts', import.meta.url), { workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    if (checkpointer !== worker) return;
    checkpointer = undefined;
    setTimeout(() => startCheckpointer(path), CHECKPOINT_RESTART_MS).unref();
  });
  checkpointer = worker;
}

function writerOnce(): Promise<{ store: JobStore; writer: BatchWriter<SerializedRecord> }> {
  // A failed open is tried again by the next message (the disk may be back by then).
  opened ??= open().then(
    // A full chunk is written at once, so each message is its own transaction and is answered before the next is read.
    (store) => ({ store, writer: new BatchWriter(serializedSaves(store), chunk === undefined ? {} : { maxBatch: chunk }) }),
    (e: unknown) => {
      opened = undefined;
      throw e;
    },
  );
  return opened;
}
// Opened at once, so that the first submission finds statements prepared.
void writerOnce().catch(() => undefined);

parentPort!.on('message', (message: WriterThreadMessage) => {
  if (message.kind === 'close') {
    closing = true;
    const stopping = checkpointer;
    checkpointer = undefined;
    stopping?.postMessage({ kind: 'close' });
    void (opened ?? Promise.resolve(undefined))
      .then(async (o) => {
        await o?.writer.flush();
        await o?.store.close();
      })
      .catch(() => undefined)
      .finally(() => parentPort!.close());
    return;
  }
  void writerOnce()
    .then(({ writer }) => Promise.allSettled(message.records.map((r) => writer.save(r))))
    .then(
      (settled) => settled.map((s): WriterThreadOutcome => (s.status === 'fulfilled' ? { ok: true, outcome: s.value } : failure(s.reason))),
      (e: unknown) => message.records.map(() => failure(e)),
    )
    .then((outcomes) => parentPort!.postMessage({ id: message.id, outcomes } satisfies WriterThreadReply));
});

/** Writes the records as they arrived (SQLite); another store gets them back as objects. */
function serializedSaves(store: JobStore): { saveMany(rows: SerializedRecord[]): ReturnType<JobStore['saveMany']> } {
  if (store instanceof SqliteJobStore) return { saveMany: (rows) => store.saveManySerialized(rows) };
  return { saveMany: (rows) => store.saveMany(rows.map((r) => JSON.parse(r.doc) as JobRecord)) };
}

function failure(e: unknown): WriterThreadOutcome {
  const message = e instanceof Error ? e.message : String(e);
  return isRecordRefused(e) ? { ok: false, refused: { recordIds: [...e.recordIds], reason: e.reason }, message } : { ok: false, message };
}
