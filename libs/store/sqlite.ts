/**
 * The SQLite adapter of the JobStore port, on node:sqlite (built into Node 24, no flag needed).
 * node:sqlite is synchronous: each call blocks the event loop for its duration, which is why the
 * worker writes through saveMany in batches rather than one save per job.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { GatewayError } from '../errors/index.ts';
import { EXPERIMENT_ROW_PATHS, experimentRowFromValues, UNIT_FALLBACK_PATH } from './experimentRow.ts';
import { FINISHED_ROW_PATHS, toFinishedRow } from './finishedRow.ts';
import { classifySqliteError } from './sqliteErrors.ts';
import { searchPage } from './searchPage.ts';
import { searchSql } from './sqliteSearch.ts';
import { serializeRecord, type SerializedRecord } from './serializedRecord.ts';
import {
  RecordRefusedError,
  TERMINAL_STATUSES,
  UNFINISHED_STATUSES,
  type ExperimentRow,
  type FeedbackRecord,
  type FinishedRow,
  type JobRecord,
  type JobSearchPage,
  type JobSearchQuery,
  type JobStore,
  type SaveOutcome,
} from './types.ts';

/**
 * The schema version this code writes, kept in SQLite's `user_version` pragma.
 * 1: jobs. 2: jobs.experiment_id (generated) and its report index, the feedback table.
 * 3: the job search's indexes (a client's jobs, and a user's, newest first).
 * 4: experiment_rows, the report's compact copy of each experiment job, kept by triggers.
 * 5: experiment_rows carry the job's lane (realtime or batch): their triggers rebuilt, the rows refilled.
 */
export const SQLITE_SCHEMA_VERSION = 5;

/** Options for SqliteJobStore. */
export interface SqliteJobStoreOptions {
  /**
   * Milliseconds a statement waits for another connection's lock before failing with SQLITE_BUSY.
   * @defaultValue 5000
   */
  busyTimeoutMs?: number;
}

// experiment_id is computed by SQLite from the document, not written by the adapter, so rows
// written by a process still running the version-1 code during a rolling upgrade are indexed too.
// VIRTUAL (not STORED) because ALTER TABLE can only add virtual generated columns.
const EXPERIMENT_ID_COLUMN = `experiment_id TEXT GENERATED ALWAYS AS (json_extract(doc, '$.experiment.id')) VIRTUAL`;

const JOBS_TABLE = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  status TEXT NOT NULL,
  feature TEXT NOT NULL,
  user_id TEXT,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  doc TEXT NOT NULL,
  ${EXPERIMENT_ID_COLUMN}
);
CREATE INDEX IF NOT EXISTS jobs_status_completed ON jobs (status, completed_at);
`;

// Version 2. The feedback table. (Version 2's report index, jobs_client_experiment_created, gave
// way to experiment_rows in version 4.)
const V2_SCHEMA = `
CREATE TABLE IF NOT EXISTS feedback (
  job_id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  helpful INTEGER,
  comment TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_client ON feedback (client_id);
`;

// Version 3. GET /v1/jobs pages through a client's jobs, or one user's, by (created_at, id); the
// id in the index keeps the order sort-free. The new client index supersedes version 1's.
const V3_SCHEMA = `
CREATE INDEX IF NOT EXISTS jobs_client_user_created ON jobs (client_id, user_id, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_client_created_id ON jobs (client_id, created_at, id);
DROP INDEX IF EXISTS jobs_client_created;
`;

// Version 4. The report reads every job of an experiment over a month (300,000 and more): reading
// them from `jobs` means fetching each multi-kilobyte document (overflow pages, in index order, so
// at random) and parsing it, seconds of work. experiment_rows keeps, per experiment job, only the
// report's fields as one JSON array (EXPERIMENT_ROW_PATHS order) and the rating, clustered by
// (experiment, created_at): a report is one sequential range read. Triggers keep it, so rows
// written by any version of the code (a rolling upgrade) are copied too, and a rating given later
// lands on its row. Changing EXPERIMENT_ROW_PATHS therefore needs a new schema version that drops
// these triggers and refills the table (as version 5 did).
const ROW_FIELDS_SQL = (doc: string) =>
  `json_array(${Object.entries(EXPERIMENT_ROW_PATHS)
    .map(([name, p]) => (name === 'unit' ? `coalesce(json_extract(${doc}, '$.${p}'), json_extract(${doc}, '$.${UNIT_FALLBACK_PATH}'))` : `json_extract(${doc}, '$.${p}')`))
    .join(', ')})`;
const RATING_OF = (job: string) => `(SELECT rating FROM feedback WHERE job_id = ${job}.id AND client_id = ${job}.client_id)`;
const V4_SCHEMA = `
CREATE TABLE IF NOT EXISTS experiment_rows (
  experiment_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  job_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  rating INTEGER,
  fields TEXT NOT NULL,
  PRIMARY KEY (experiment_id, created_at, job_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS experiment_rows_job ON experiment_rows (job_id);
CREATE TRIGGER IF NOT EXISTS jobs_experiment_row_insert AFTER INSERT ON jobs WHEN NEW.experiment_id IS NOT NULL BEGIN
  INSERT OR REPLACE INTO experiment_rows VALUES (NEW.experiment_id, NEW.created_at, NEW.id, NEW.client_id, ${RATING_OF('NEW')}, ${ROW_FIELDS_SQL('NEW.doc')});
END;
CREATE TRIGGER IF NOT EXISTS jobs_experiment_row_update AFTER UPDATE ON jobs BEGIN
  DELETE FROM experiment_rows WHERE job_id = OLD.id;
  INSERT OR REPLACE INTO experiment_rows SELECT NEW.experiment_id, NEW.created_at, NEW.id, NEW.client_id, ${RATING_OF('NEW')}, ${ROW_FIELDS_SQL('NEW.doc')} WHERE NEW.experiment_id IS NOT NULL;
END;
CREATE TRIGGER IF NOT EXISTS jobs_experiment_row_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM experiment_rows WHERE job_id = OLD.id;
END;
CREATE TRIGGER IF NOT EXISTS feedback_experiment_row_insert AFTER INSERT ON feedback BEGIN
  UPDATE experiment_rows SET rating = NEW.rating WHERE job_id = NEW.job_id AND client_id = NEW.client_id;
END;
CREATE TRIGGER IF NOT EXISTS feedback_experiment_row_update AFTER UPDATE ON feedback BEGIN
  UPDATE experiment_rows SET rating = NULL WHERE job_id = OLD.job_id;
  UPDATE experiment_rows SET rating = NEW.rating WHERE job_id = NEW.job_id AND client_id = NEW.client_id;
END;
CREATE TRIGGER IF NOT EXISTS feedback_experiment_row_delete AFTER DELETE ON feedback BEGIN
  UPDATE experiment_rows SET rating = NULL WHERE job_id = OLD.job_id;
END;
DROP INDEX IF EXISTS jobs_client_experiment_created;
`;

// Version 5. The rows gain the job's lane. The two job triggers hold the field list as it was when
// they were created (CREATE TRIGGER IF NOT EXISTS keeps an old one), so a file older than this
// version drops them before V4_SCHEMA creates them anew, then refills every row from its job.
const ROW_FIELD_TRIGGERS_DROP = `
DROP TRIGGER IF EXISTS jobs_experiment_row_insert;
DROP TRIGGER IF EXISTS jobs_experiment_row_update;
`;

// Files older than version 5 copy their experiment jobs once, on the first open by this version:
// one pass over the jobs inside the migration's transaction (a JSON parse per experiment job).
const ROWS_REFILL = `
DELETE FROM experiment_rows;
INSERT OR REPLACE INTO experiment_rows
SELECT j.experiment_id, j.created_at, j.id, j.client_id, ${RATING_OF('j')}, ${ROW_FIELDS_SQL('j.doc')}
FROM jobs j WHERE j.experiment_id IS NOT NULL`;

// A search prepares one statement per shape of its filters; the shapes in use are few, so a small
// cache (emptied when full) saves preparing them again.
const MAX_CACHED_SEARCHES = 64;

const TERMINAL_LIST = TERMINAL_STATUSES.map((t) => `'${t}'`).join(', ');

// Recovery after Redis lost its data: the unfinished records, paged by id. Served by
// jobs_status_completed (status IN, then a sort of the few unfinished rows): an index of its own
// would cost every intake write more than the rare recovery gains.
const UNFINISHED = `SELECT doc FROM jobs WHERE status IN (${UNFINISHED_STATUSES.map((t) => `'${t}'`).join(', ')}) AND id > ? ORDER BY id LIMIT ?`;

// Spend rebuilt by completion time, served by jobs_status_completed. Each record's cost is
// rounded to micro-dollars before summing, as the budget counts them.
const SPENT_MICROS = `
SELECT COALESCE(SUM(CAST(ROUND(json_extract(doc, '$.cost_usd') * 1000000) AS INTEGER)), 0) AS micros
FROM jobs WHERE status IN (${TERMINAL_LIST}) AND completed_at >= ? AND completed_at < ?`;

// The dashboard's recent window, served by jobs_status_completed; only the fields it reads leave
// SQLite (never the answer text).
const FINISHED_ROWS = `
SELECT json_extract(doc, ${Object.values(FINISHED_ROW_PATHS).map((p) => `'$.${p}'`).join(', ')}) AS fields
FROM jobs WHERE status IN (${TERMINAL_LIST}) AND completed_at >= ? AND completed_at < ?
ORDER BY completed_at DESC LIMIT ?`;
const FINISHED_FIELDS = Object.keys(FINISHED_ROW_PATHS);

const UPSERT_FEEDBACK = `
INSERT INTO feedback (job_id, client_id, rating, helpful, comment, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (job_id) DO UPDATE SET
  client_id = excluded.client_id,
  rating = excluded.rating,
  helpful = excluded.helpful,
  comment = excluded.comment,
  created_at = excluded.created_at`;


// Both served by experiment_rows' primary key: one client's report reads the experiment's rows of
// the window and keeps its own, a bound no worse than the operator's report of every client (an
// index per client would be chosen by SQLite only with statistics, and would cost every write). The fields arrive as
// one JSON array per row, which a single JSON.parse turns into values faster than SQLite can hand
// over twenty separate columns.
const EXPERIMENT_ROWS_ALL_CLIENTS = 'SELECT fields, rating FROM experiment_rows WHERE experiment_id = ? AND created_at >= ?';
const EXPERIMENT_ROWS_OF_CLIENT = 'SELECT fields, rating FROM experiment_rows WHERE client_id = ? AND experiment_id = ? AND created_at >= ?';

const UPSERT = `
INSERT INTO jobs (id, client_id, status, feature, user_id, created_at, completed_at, doc)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
  client_id = excluded.client_id,
  status = excluded.status,
  feature = excluded.feature,
  user_id = excluded.user_id,
  created_at = excluded.created_at,
  completed_at = excluded.completed_at,
  doc = excluded.doc
WHERE jobs.status NOT IN (${TERMINAL_LIST})`;

interface Statements {
  upsert: StatementSync;
  getOne: StatementSync;
  getMany: StatementSync;
  upsertFeedback: StatementSync;
  getFeedback: StatementSync;
  experimentRowsOfClient: StatementSync;
  experimentRowsAllClients: StatementSync;
  removeUnfinished: StatementSync;
  unfinished: StatementSync;
  spentMicros: StatementSync;
  finishedRows: StatementSync;
  ping: StatementSync;
}

/** A JobStore on one SQLite file; several processes may share the file (WAL, busy timeout). */
export class SqliteJobStore implements JobStore {
  /** The file path as given (':memory:' for a private in-memory database). */
  readonly path: string;
  readonly #busyTimeoutMs: number;
  #db: DatabaseSync | undefined;
  #stmts: Statements | undefined;
  readonly #searches = new Map<string, StatementSync>();

  /** @param path a file path, or ':memory:'. The file and its directory are created by init(). */
  constructor(path: string, options: SqliteJobStoreOptions = {}) {
    this.path = path;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  }

  async init(): Promise<void> {
    // Processes starting together on a new file race to switch it to WAL and create the schema;
    // SQLite answers SQLITE_BUSY at once (no busy wait) where waiting could deadlock, so try again.
    const deadline = Date.now() + 2 * this.#busyTimeoutMs;
    for (;;) {
      try {
        return this.#open();
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw e;
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
      }
    }
  }

  #open(): void {
    if (this.#db) return;
    const inMemory = this.path === ':memory:';
    if (!inMemory) mkdirSync(dirname(resolve(this.path)), { recursive: true });
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(this.path, { timeout: this.#busyTimeoutMs });
    } catch (cause) {
      throw new GatewayError(
        'store_open_failed',
        `Cannot open the SQLite store at ${this.path}: check that the path is writable (${String(cause)}).`,
        { cause },
      );
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
      if (!inMemory) db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db);
      this.#stmts = {
        upsert: db.prepare(UPSERT),
        getOne: db.prepare('SELECT doc FROM jobs WHERE id = ? AND client_id = ?'),
        // One JSON array parameter instead of N placeholders: one prepared statement, no
        // SQLITE_MAX_VARIABLE_NUMBER limit.
        getMany: db.prepare('SELECT doc FROM jobs WHERE id IN (SELECT value FROM json_each(?))'),
        upsertFeedback: db.prepare(UPSERT_FEEDBACK),
        getFeedback: db.prepare('SELECT job_id, client_id, rating, helpful, comment, created_at FROM feedback WHERE job_id = ? AND client_id = ?'),
        experimentRowsOfClient: arrays(db.prepare(EXPERIMENT_ROWS_OF_CLIENT)),
        experimentRowsAllClients: arrays(db.prepare(EXPERIMENT_ROWS_ALL_CLIENTS)),
        removeUnfinished: db.prepare(`DELETE FROM jobs WHERE id = ? AND status NOT IN (${TERMINAL_LIST})`),
        unfinished: db.prepare(UNFINISHED),
        spentMicros: db.prepare(SPENT_MICROS),
        finishedRows: db.prepare(FINISHED_ROWS),
        ping: db.prepare('SELECT 1 AS ok'),
      };
      this.#db = db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  async save(job: JobRecord): Promise<SaveOutcome> {
    return this.#upsert(this.#ready().stmts.upsert, serializeRecord(job));
  }

  /** All or nothing: a refused record rolls the batch back and throws RecordRefusedError naming it. */
  async saveMany(jobs: JobRecord[]): Promise<SaveOutcome[]> {
    return this.#saveMany(jobs, (job) => serializeRecord(job));
  }

  /** saveMany of records already serialized (serializeRecord), as the intake writer thread receives them. */
  async saveManySerialized(rows: SerializedRecord[]): Promise<SaveOutcome[]> {
    return this.#saveMany(rows, (row) => row);
  }

  #saveMany<R>(items: R[], serialized: (item: R) => SerializedRecord): SaveOutcome[] {
    if (items.length === 0) return [];
    const { db, stmts } = this.#ready();
    // IMMEDIATE takes the write lock up front, so a concurrent writer waits (busy_timeout) at
    // BEGIN instead of failing when a read transaction tries to upgrade.
    db.exec('BEGIN IMMEDIATE');
    try {
      const outcomes = items.map((item) => this.#upsert(stmts.upsert, serialized(item)));
      db.exec('COMMIT');
      return outcomes;
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  async get(clientId: string, id: string): Promise<JobRecord | null> {
    const row = this.#ready().stmts.getOne.get(id, clientId);
    return row ? parseDoc(row.doc) : null;
  }

  async getMany(ids: string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const rows = this.#ready().stmts.getMany.all(JSON.stringify(ids));
    const byId = new Map<string, JobRecord>();
    for (const row of rows) {
      const job = parseDoc(row.doc);
      byId.set(job.id, job);
    }
    // Answer in the order asked, once per id, so callers and tests need not sort.
    const out: JobRecord[] = [];
    for (const id of new Set(ids)) {
      const job = byId.get(id);
      if (job) out.push(job);
    }
    return out;
  }

  async saveFeedback(feedback: FeedbackRecord): Promise<void> {
    const helpful = feedback.helpful === null ? null : feedback.helpful ? 1 : 0;
    this.#ready().stmts.upsertFeedback.run(feedback.job_id, feedback.client_id, feedback.rating, helpful, feedback.comment, feedback.created_at);
  }

  async getFeedback(clientId: string, jobId: string): Promise<FeedbackRecord | null> {
    const row = this.#ready().stmts.getFeedback.get(jobId, clientId);
    if (!row) return null;
    return {
      job_id: String(row.job_id),
      client_id: String(row.client_id),
      rating: Number(row.rating),
      helpful: row.helpful === null ? null : row.helpful === 1,
      comment: typeof row.comment === 'string' ? row.comment : null,
      created_at: String(row.created_at),
    };
  }

  async experimentRows(clientId: string | null, experimentId: string, sinceIso: string): Promise<ExperimentRow[]> {
    return [...this.eachExperimentRow(clientId, experimentId, sinceIso)];
  }

  /**
   * experimentRows one row at a time, decoded as it is read: a report of a month (300,000 rows
   * and more) then never holds every row object at once, which is most of its garbage-collection
   * time. Each row's text is garbage as soon as it is decoded.
   */
  *eachExperimentRow(clientId: string | null, experimentId: string, sinceIso: string): Generator<ExperimentRow> {
    const { experimentRowsOfClient, experimentRowsAllClients } = this.#ready().stmts;
    const rows = clientId === null ? experimentRowsAllClients.iterate(experimentId, sinceIso) : experimentRowsOfClient.iterate(clientId, experimentId, sinceIso);
    for (const [fields, rating] of rows as Iterable<unknown> as Iterable<[string, number | null]>) yield experimentRowFromValues(JSON.parse(fields) as unknown[], rating);
  }

  async removeUnfinished(id: string): Promise<boolean> {
    return Number(this.#ready().stmts.removeUnfinished.run(id).changes) > 0;
  }

  async unfinished(afterId: string, limit: number): Promise<JobRecord[]> {
    return this.#ready().stmts.unfinished.all(afterId, limit).map((row) => parseDoc(row.doc));
  }

  async spentMicros(fromIso: string, toIso: string): Promise<number> {
    return Number(this.#ready().stmts.spentMicros.get(fromIso, toIso)?.micros ?? 0);
  }

  async searchJobs(query: JobSearchQuery): Promise<JobSearchPage> {
    const { page, scanEnd } = searchSql(query);
    const matches = this.#search(page.sql).all(...page.params).map((row) => parseDoc(row.doc));
    const lastExamined = scanEnd
      ? async () => {
          const row = this.#search(scanEnd.sql).get(...scanEnd.params);
          return row ? { created_at: String(row.created_at), id: String(row.id) } : null;
        }
      : undefined;
    return searchPage(matches, query.limit, lastExamined);
  }

  /** The prepared statement of a search's SQL, kept for the next search of that shape. */
  #search(sql: string): StatementSync {
    let stmt = this.#searches.get(sql);
    if (!stmt) {
      if (this.#searches.size >= MAX_CACHED_SEARCHES) this.#searches.clear();
      stmt = this.#ready().db.prepare(sql);
      this.#searches.set(sql, stmt);
    }
    return stmt;
  }

  async finishedRows(fromIso: string, toIso: string, limit: number): Promise<FinishedRow[]> {
    return this.#ready().stmts.finishedRows.all(fromIso, toIso, limit).map((row) => {
      const values = JSON.parse(String(row.fields)) as unknown[];
      return toFinishedRow(Object.fromEntries(FINISHED_FIELDS.map((name, i) => [name, values[i]])));
    });
  }

  async ping(): Promise<boolean> {
    if (!this.#db || !this.#stmts) return false;
    try {
      return this.#stmts.ping.get()?.ok === 1;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#stmts = undefined;
    this.#searches.clear();
    if (db?.isOpen) db.close();
  }

  #ready(): { db: DatabaseSync; stmts: Statements } {
    if (!this.#db || !this.#stmts) {
      throw new GatewayError('store_not_ready', 'The SQLite store is not open: call init() before using it (or it was closed).');
    }
    return { db: this.#db, stmts: this.#stmts };
  }

  /** Throws RecordRefusedError for a record SQLite cannot hold; any other error means the store is unavailable. */
  #upsert(stmt: StatementSync, row: SerializedRecord): SaveOutcome {
    try {
      // No change means the upsert's WHERE kept a terminal record.
      const { changes } = stmt.run(row.id, row.client_id, row.status, row.feature, row.user_id, row.created_at, row.completed_at, row.doc);
      return Number(changes) > 0 ? 'written' : 'kept_earlier';
    } catch (cause) {
      const failure = classifySqliteError(cause);
      if (failure.kind === 'refused') throw new RecordRefusedError([row.id], failure.reason, { cause });
      throw cause;
    }
  }
}

/**
 * Creates the schema, or upgrades an older one in place (version 1 files gain the experiment
 * column, its index and the feedback table; version 2 files the search indexes; older files gain
 * experiment_rows, and files older than version 5 have it refilled from their jobs with the lane).
 * Refuses a file written by a newer version.
 */
function migrate(db: DatabaseSync): void {
  // IMMEDIATE so two processes starting at once do not both try to create the schema.
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new GatewayError(
        'store_schema_too_new',
        `The SQLite store has schema version ${version}, newer than this build understands (${SQLITE_SCHEMA_VERSION}): upgrade the gateway or point DATABASE_URL at another file.`,
      );
    }
    db.exec(JOBS_TABLE);
    // A version-1 table predates the generated column; table_xinfo (unlike table_info) lists
    // generated columns, so this is also a no-op on a table created by this version.
    const columns = db.prepare('PRAGMA table_xinfo(jobs)').all().map((c) => c.name);
    if (!columns.includes('experiment_id')) db.exec(`ALTER TABLE jobs ADD COLUMN ${EXPERIMENT_ID_COLUMN}`);
    db.exec(V2_SCHEMA);
    db.exec(V3_SCHEMA);
    if (version < 5) db.exec(ROW_FIELD_TRIGGERS_DROP);
    db.exec(V4_SCHEMA);
    if (version < 5) db.exec(ROWS_REFILL);
    if (version < SQLITE_SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/** The statement, answering each row as an array of its columns (no per-row object to build). */
function arrays(stmt: StatementSync): StatementSync {
  stmt.setReturnArrays(true);
  return stmt;
}

function parseDoc(doc: unknown): JobRecord {
  if (typeof doc !== 'string') {
    throw new GatewayError('store_corrupt_record', 'A job row in the SQLite store has no JSON document: the file may be damaged.');
  }
  return JSON.parse(doc) as JobRecord;
}

/** True for SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock for now. */
function isBusy(e: unknown): boolean {
  const errcode = (e as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6);
}
