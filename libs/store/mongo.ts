/**
 * The MongoDB adapter of the JobStore port, on mongoose 9, for deployments across many hosts
 * (README, "Storage"). Chosen by a `mongodb://` or `mongodb+srv://` DATABASE_URL; the URL's
 * `retention_days` parameter sets how long records are kept (see mongoUrl.ts).
 *
 * Each store owns its own connection (`mongoose.createConnection`), never mongoose's global one,
 * so that it cannot collide with anything else in the process and close() closes only it.
 */
import mongoose, { type Connection, type Model } from 'mongoose';
import { GatewayError } from '../errors/index.ts';
import { toExperimentRow } from './experimentRow.ts';
import { toFinishedRow } from './finishedRow.ts';
import {
  FEEDBACK_COLLECTION,
  JOBS_COLLECTION,
  type FeedbackDocument,
  type JobDocument,
  createFeedbackSchema,
  createJobSchema,
  experimentRowsPipeline,
  spentMicrosPipeline,
  finishedRowsPipeline,
  fromFeedbackDocument,
  fromJobDocument,
  toFeedbackDocument,
  toJobDocument,
} from './mongoSchema.ts';
import { mongoWriteError } from './mongoErrors.ts';
import { searchQueries } from './mongoSearch.ts';
import { searchPage } from './searchPage.ts';
import { DEFAULT_MONGO_DATABASE, DEFAULT_RETENTION_DAYS, checkRetentionDays, parseMongoUrl } from './mongoUrl.ts';
import { TERMINAL_STATUSES, UNFINISHED_STATUSES, type JobStatus, type JobSearchPage, type JobSearchQuery, type FinishedRow, type ExperimentRow, type FeedbackRecord, type JobRecord, type JobStore, type SaveOutcome } from './types.ts';

/** Options for MongoJobStore; each one given here overrides what the URL says. */
export interface MongoJobStoreOptions {
  /**
   * Days a record is kept after its last save (MongoDB's TTL monitor deletes it, within about a
   * minute of expiry); 0 keeps records forever. Applies to records saved from now on.
   * @defaultValue the URL's `retention_days`, else 90
   */
  retentionDays?: number;
  /**
   * The database to use.
   * @defaultValue the database in the URL's path, else `gateway`
   */
  dbName?: string;
  /**
   * Milliseconds an operation waits for a usable server before failing.
   * @defaultValue the URL's `serverSelectionTimeoutMS`, else the driver's 30000
   */
  serverSelectionTimeoutMs?: number;
  /**
   * Milliseconds ping() waits before answering false, so a readiness probe never hangs.
   * @defaultValue 2000
   */
  pingTimeoutMs?: number;
}

/** A JobStore on a MongoDB database; any number of processes may share it. */
export class MongoJobStore implements JobStore {
  /** The database the store uses. */
  readonly dbName: string;
  /** Days a record is kept after its last save; 0 = forever. */
  readonly retentionDays: number;
  readonly #url: string;
  readonly #serverSelectionTimeoutMs: number | undefined;
  readonly #pingTimeoutMs: number;
  #opening: Promise<void> | undefined;
  #conn: Connection | undefined;
  #model: Model<JobDocument> | undefined;
  #feedback: Model<FeedbackDocument> | undefined;

  /**
   * @param url a `mongodb://` or `mongodb+srv://` DATABASE_URL, gateway parameters included.
   * Throws GatewayError `invalid_database_url` for a malformed URL or retention. Connects in init().
   */
  constructor(url: string, options: MongoJobStoreOptions = {}) {
    const settings = parseMongoUrl(url);
    this.#url = settings.url;
    this.dbName = options.dbName ?? settings.dbName ?? DEFAULT_MONGO_DATABASE;
    this.retentionDays = checkRetentionDays(options.retentionDays ?? settings.retentionDays ?? DEFAULT_RETENTION_DAYS);
    this.#serverSelectionTimeoutMs = options.serverSelectionTimeoutMs;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 2000;
  }

  async init(): Promise<void> {
    // One connection however many callers race to init(); a failed attempt may be retried.
    this.#opening ??= this.#open();
    try {
      await this.#opening;
    } catch (e) {
      this.#opening = undefined;
      throw e;
    }
  }

  /**
   * Throws RecordRefusedError when MongoDB refuses the record; any other error means the server is
   * unavailable. The filter matches only a non-terminal record, so the upsert of a job whose
   * record is terminal collides with it on `_id`: that duplicate key means `kept_earlier`. One
   * collision is tried again, since it may also be a racing first insert of the same job.
   */
  async save(job: JobRecord): Promise<SaveOutcome> {
    const jobs = this.#ready().jobs;
    const doc = toJobDocument(job, new Date(), this.retentionDays);
    for (let tries = 0; ; tries++) {
      try {
        await jobs.replaceOne(unlessTerminal(doc._id), doc, { upsert: true });
        return 'written';
      } catch (e) {
        if (!isDuplicateKey(e)) throw mongoWriteError(e, [job.id]);
        if (tries > 0) return 'kept_earlier';
      }
    }
  }

  async saveMany(jobs: JobRecord[]): Promise<SaveOutcome[]> {
    if (jobs.length === 0) return [];
    const model = this.#ready().jobs;
    const now = new Date();
    const ops = jobs.map((job) => {
      const doc = toJobDocument(job, now, this.retentionDays);
      return { replaceOne: { filter: unlessTerminal(doc._id), replacement: doc, upsert: true } };
    });
    // Unordered: one bad record does not stop the rest, and the server may apply them in
    // parallel. Any failure still rejects (throwOnValidationError: mongoose would otherwise skip
    // invalid records silently): RecordRefusedError naming the refused records when that is all
    // that failed, so the caller writes the others again (upserts make that harmless).
    try {
      await model.bulkWrite(ops, { ordered: false, throwOnValidationError: true });
      return jobs.map(() => 'written');
    } catch (e) {
      const collided = duplicateKeyIndexes(e);
      if (!collided) throw mongoWriteError(e, jobs.map((job) => job.id));
      // Only terminal records (or racing inserts) were in the way: every other record is written;
      // the colliding ones are sorted out one by one.
      const outcomes: SaveOutcome[] = jobs.map(() => 'written');
      for (const i of collided) outcomes[i] = await this.save(jobs[i]!);
      return outcomes;
    }
  }

  async get(clientId: string, id: string): Promise<JobRecord | null> {
    // sanitizeFilter: an id is data, never a query operator, whatever a caller passes.
    const doc = await this.#ready()
      .jobs.findOne({ _id: id, client_id: clientId })
      .setOptions({ sanitizeFilter: true })
      .lean<Record<string, unknown>>();
    return doc ? fromJobDocument(doc) : null;
  }

  async getMany(ids: string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const wanted = [...new Set(ids)];
    const docs = await this.#ready()
      .jobs.find({ _id: { $in: wanted } })
      .lean<Record<string, unknown>[]>();
    const byId = new Map<string, JobRecord>();
    for (const doc of docs) {
      const job = fromJobDocument(doc);
      byId.set(job.id, job);
    }
    // Answer in the order asked, once per id, like the SQLite adapter.
    const out: JobRecord[] = [];
    for (const id of wanted) {
      const job = byId.get(id);
      if (job) out.push(job);
    }
    return out;
  }

  async saveFeedback(feedback: FeedbackRecord): Promise<void> {
    const doc = toFeedbackDocument(feedback, new Date(), this.retentionDays);
    await this.#ready().feedback.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  async getFeedback(clientId: string, jobId: string): Promise<FeedbackRecord | null> {
    const doc = await this.#ready()
      .feedback.findOne({ _id: jobId, client_id: clientId })
      .setOptions({ sanitizeFilter: true })
      .lean<Record<string, unknown>>();
    return doc ? fromFeedbackDocument(doc) : null;
  }

  async experimentRows(clientId: string | null, experimentId: string, sinceIso: string): Promise<ExperimentRow[]> {
    const pipeline = experimentRowsPipeline(clientId, experimentId, sinceIso);
    const docs = await this.#ready().jobs.aggregate<Record<string, unknown>>(pipeline);
    return docs.map(toExperimentRow);
  }

  async removeUnfinished(id: string): Promise<boolean> {
    // $eq: an id is data, never a query operator.
    const result = await this.#ready().jobs.deleteOne({ _id: { $eq: id }, status: { $nin: [...TERMINAL_STATUSES] } });
    return result.deletedCount > 0;
  }

  async unfinished(afterId: string, limit: number): Promise<JobRecord[]> {
    const docs = await this.#ready()
      .jobs.find({ status: { $in: [...UNFINISHED_STATUSES] }, _id: { $gt: String(afterId) } })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<Record<string, unknown>[]>();
    return docs.map(fromJobDocument);
  }

  async spentMicros(fromIso: string, toIso: string): Promise<number> {
    const [row] = await this.#ready().jobs.aggregate<{ micros?: unknown }>(spentMicrosPipeline(TERMINAL_STATUSES, fromIso, toIso));
    return Number(row?.micros ?? 0);
  }

  async searchJobs(query: JobSearchQuery): Promise<JobSearchPage> {
    const jobs = this.#ready().jobs;
    const { page, scanEnd } = searchQueries(query);
    const docs = await jobs.aggregate<Record<string, unknown>>(page);
    const lastExamined = scanEnd
      ? async () => {
          const [end] = await jobs.aggregate<{ _id: string; created_at: string }>(scanEnd);
          return end ? { created_at: end.created_at, id: end._id } : null;
        }
      : undefined;
    return searchPage(docs.map(fromJobDocument), query.limit, lastExamined);
  }

  async finishedRows(fromIso: string, toIso: string, limit: number): Promise<FinishedRow[]> {
    const docs = await this.#ready().jobs.aggregate<Record<string, unknown>>(finishedRowsPipeline(TERMINAL_STATUSES, fromIso, toIso, limit));
    return docs.map(toFinishedRow);
  }

  async ping(): Promise<boolean> {
    const db = this.#model ? this.#conn?.db : undefined;
    if (!db) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#pingTimeoutMs);
    });
    try {
      const answer = db.admin().ping().then((r) => Number(r.ok) === 1);
      return await Promise.race([answer, timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    // Let a connection still being opened finish, so it is closed rather than leaked.
    await opening?.catch(() => undefined);
    const conn = this.#conn;
    this.#conn = undefined;
    this.#model = undefined;
    this.#feedback = undefined;
    await conn?.close();
  }

  async #open(): Promise<void> {
    let conn: Connection | undefined;
    try {
      conn = mongoose.createConnection(this.#url, {
        dbName: this.dbName,
        // Fail fast instead of queueing operations in memory while the server is away; the
        // driver's own server selection already waits for a failover.
        bufferCommands: false,
        autoIndex: false,
        autoCreate: false,
        // An optional field left undefined is omitted, as JSON.stringify does for SQLite,
        // instead of coming back as null.
        ignoreUndefined: true,
        ...(this.#serverSelectionTimeoutMs === undefined ? {} : { serverSelectionTimeoutMS: this.#serverSelectionTimeoutMs }),
      });
      await conn.asPromise();
      const model = conn.model<JobDocument>('Job', createJobSchema(), JOBS_COLLECTION);
      // createIndexes, not syncIndexes: it never drops an index an operator added, and it is
      // idempotent when many processes start at once.
      const feedback = conn.model<FeedbackDocument>('Feedback', createFeedbackSchema(), FEEDBACK_COLLECTION);
      await Promise.all([model.createIndexes(), feedback.createIndexes()]);
      this.#conn = conn;
      this.#model = model;
      this.#feedback = feedback;
    } catch (cause) {
      await conn?.close().catch(() => undefined);
      throw new GatewayError(
        'store_open_failed',
        `Cannot open the MongoDB store (database "${this.dbName}"): ${redact(cause)}. Check DATABASE_URL and that the server is reachable.`,
        { cause },
      );
    }
  }

  #ready(): { jobs: Model<JobDocument>; feedback: Model<FeedbackDocument> } {
    if (!this.#model || !this.#feedback) {
      throw new GatewayError('store_not_ready', 'The MongoDB store is not open: call init() before using it (or it was closed).');
    }
    return { jobs: this.#model, feedback: this.#feedback };
  }
}

/** The filter of a job's upsert: its record, unless that record is terminal. */
function unlessTerminal(id: string): { _id: string; status: { $nin: JobStatus[] } } {
  return { _id: id, status: { $nin: [...TERMINAL_STATUSES] } };
}

const DUPLICATE_KEY = 11000;

function isDuplicateKey(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The batch positions of a bulk write that failed only on duplicate keys, or null when anything
 * else failed (or the error is not a bulk write's). The driver gives one write error or a list.
 */
export function duplicateKeyIndexes(e: unknown): number[] | null {
  if (typeof e !== 'object' || e === null) return null;
  const raw = (e as { writeErrors?: unknown }).writeErrors;
  const errors = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Array<{ code?: unknown; index?: unknown; err?: { code?: unknown; index?: unknown } }>;
  if (errors.length === 0 || (e as { writeConcernError?: unknown }).writeConcernError) return null;
  const indexes: number[] = [];
  for (const w of errors) {
    const code = w.code ?? w.err?.code;
    const index = w.index ?? w.err?.index;
    if (code !== DUPLICATE_KEY || typeof index !== 'number') return null;
    indexes.push(index);
  }
  return indexes;
}

/** A driver error's message with any `user:password@` removed (some messages quote the URL). */
function redact(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(/\/\/[^/@\s]*@/g, '//***@');
}
