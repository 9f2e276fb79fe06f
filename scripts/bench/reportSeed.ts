/**
 * A SQLite store filled with a month of one experiment's jobs, for the report benchmark: a
 * realistic mix of outcomes, answering paths, categories, latencies and costs, about 10% of the
 * completed jobs rated, a 5% holdout. Seeded, so every run writes the same records. The store
 * creates the schema; the rows then go in by plain INSERTs in one transaction (the store's
 * triggers still fill its report table), which keeps 300,000 records well under a minute.
 */
import { DatabaseSync } from 'node:sqlite';
import { seededRng, type Rng } from '../../libs/stats/index.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import type { JobRecord, JobStatus, ServedBy } from '../../libs/store/types.ts';

/** Options for seedReportStore. */
export interface ReportSeedOptions {
  /** The SQLite file to fill (created when missing). */
  path: string;
  /** Records to write. @defaultValue 300000 */
  jobs?: number;
  /** Days the records' creation times spread over, ending at `now`. @defaultValue 30 */
  days?: number;
  /** The client every record belongs to. @defaultValue 'bench' */
  clientId?: string;
  /** The end of the window. @defaultValue the current time */
  now?: Date;
  /** Seed of the generator. @defaultValue 42 */
  seed?: number;
}

/** What was written: a few job ids to poll, and how long writing took. */
export interface ReportSeed {
  jobs: number;
  rated: number;
  sampleIds: string[];
  seedMs: number;
}

const EXPERIMENT = 'career_model_ab';
const VARIANTS = [
  { name: 'gpt4', provider: 'openai', model: 'gpt-4', latencyMs: 2600, inPerM: 30, outPerM: 60 },
  { name: 'claude', provider: 'anthropic', model: 'claude-3-5-sonnet-20241022', latencyMs: 2100, inPerM: 3, outPerM: 15 },
] as const;
const SECTORS = ['technology', 'healthcare', 'finance', 'education', 'renewable_energy', 'retail', 'manufacturing', 'government', 'media', 'logistics', 'unknown'];
const DEGREES = ['high_school', 'associate', 'bachelor', 'master', 'doctorate', 'unknown'];
const BANDS = ['0-2', '3-5', '6-10', '11-20', '20+'];
const USERS = 40_000;
// An answer of about a kilobyte (a short career plan), so records are the size of real ones.
const ANSWER = 'Step 1: map the skills your degree gave you to the roles the sector hires for. '.repeat(12);

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** A log-normal draw around `median` (spread sigma 0.4): latencies have a long right tail. */
function logNormal(rng: Rng, median: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.round(median * Math.exp(0.4 * z));
}

function servedBy(rng: Rng): ServedBy {
  const r = rng();
  if (r < 0.86) return 'provider';
  if (r < 0.9) return 'failover';
  if (r < 0.92) return 'downgrade';
  if (r < 0.97) return 'cache';
  if (r < 0.98) return 'stale_cache';
  if (r < 0.99) return 'category_cache';
  return 'degraded';
}

function jobRecord(rng: Rng, i: number, clientId: string, createdMs: number): JobRecord {
  const user = Math.floor(rng() * USERS);
  const holdout = user % 20 === 0;
  const variant = holdout ? VARIANTS[0] : VARIANTS[user % 2]!;
  const r = rng();
  const status: JobStatus = r < 0.93 ? 'completed' : r < 0.98 ? 'failed' : 'rejected';
  const by = status === 'completed' ? servedBy(rng) : null;
  const fromModel = by === 'provider' || by === 'failover' || by === 'downgrade';
  const input = 400 + Math.floor(rng() * 600);
  const output = fromModel ? 600 + Math.floor(rng() * 900) : 0;
  const providerMs = fromModel ? logNormal(rng, variant.latencyMs) : 0;
  const queueMs = logNormal(rng, 150);
  const totalMs = queueMs + providerMs + 20 + Math.floor(rng() * 40);
  const cost = fromModel ? Math.round(input * variant.inPerM + output * variant.outPerM) / 1e6 : status === 'failed' ? 0 : 0;
  const created = new Date(createdMs).toISOString();
  const completed = new Date(createdMs + totalMs).toISOString();
  return {
    // Shaped like the ids the API issues (a v4 UUID), so GET /v1/jobs/:id accepts them.
    id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    client_id: clientId,
    status,
    feature: 'career_path_navigator',
    prompt_version: 'v1',
    experiment: holdout ? { id: EXPERIMENT, variant: variant.name, holdout: true } : { id: EXPERIMENT, variant: variant.name },
    category: { sector: pick(rng, SECTORS), degree_level: pick(rng, DEGREES), experience_band: pick(rng, BANDS) },
    provider: fromModel ? variant.provider : null,
    model: fromModel ? variant.model : null,
    result: status === 'completed' ? { text: ANSWER } : null,
    usage: status === 'completed' ? { input_tokens: fromModel ? input : 0, output_tokens: output } : null,
    cost_usd: status === 'completed' ? cost : null,
    cache: by === 'cache' || by === 'stale_cache' || by === 'category_cache' ? 'hit' : 'miss',
    degraded: by === 'degraded' || by === 'category_cache',
    served_by: by,
    finish_reason: status === 'completed' ? 'stop' : null,
    truncated: false,
    attempts: 1,
    provider_attempts: fromModel ? [{ provider: variant.provider, model: variant.model, status: 200, latencyMs: providerMs }] : [],
    error: status === 'completed' ? null : status === 'failed' ? { code: 'providers_unavailable', message: 'No provider answered.' } : { code: 'budget_exceeded', message: 'The budget is spent.' },
    latency_ms: { queue: queueMs, provider: providerMs, total: totalMs },
    user_id: `user_${user}`,
    callback_url: null,
    metadata: { source: 'bench' },
    created_at: created,
    started_at: new Date(createdMs + queueMs).toISOString(),
    completed_at: completed,
  };
}

/** Fills `options.path` with the experiment's jobs and ratings (see the file comment). */
export async function seedReportStore(options: ReportSeedOptions): Promise<ReportSeed> {
  const jobs = options.jobs ?? 300_000;
  const days = options.days ?? 30;
  const clientId = options.clientId ?? 'bench';
  const endMs = (options.now ?? new Date()).getTime() - 60_000;
  const rng = seededRng(options.seed ?? 42);
  const store = new SqliteJobStore(options.path);
  await store.init();
  await store.close();
  const started = performance.now();
  const stepMs = (days * 86_400_000) / jobs;
  const sampleIds: string[] = [];
  let rated = 0;
  const db = new DatabaseSync(options.path);
  try {
    const insertJob = db.prepare('INSERT INTO jobs (id, client_id, status, feature, user_id, created_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const insertFeedback = db.prepare('INSERT INTO feedback (job_id, client_id, rating, helpful, comment, created_at) VALUES (?, ?, ?, NULL, NULL, ?)');
    // A throwaway file: no need to wait for the disk, and a large cache keeps the indexes in memory.
    db.exec('PRAGMA synchronous = OFF; PRAGMA cache_size = -262144');
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < jobs; i++) {
      const job = jobRecord(rng, i, clientId, Math.round(endMs - (jobs - i) * stepMs));
      insertJob.run(job.id, job.client_id, job.status, job.feature, job.user_id, job.created_at, job.completed_at, JSON.stringify(job));
      if (job.status === 'completed' && rng() < 0.11) {
        insertFeedback.run(job.id, clientId, ratingFor(rng, job), job.completed_at);
        rated++;
      }
      if (i % Math.max(1, Math.floor(jobs / 100)) === 0) sampleIds.push(job.id);
    }
    db.exec('COMMIT');
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.close();
  }
  return { jobs, rated, sampleIds, seedMs: performance.now() - started };
}

function ratingFor(rng: Rng, job: JobRecord): number {
  // Claude's answers rate a little higher, so the report has a difference to find.
  const base = job.experiment?.variant === 'claude' ? 3.9 : 3.7;
  return Math.min(5, Math.max(1, Math.round(base + (rng() - 0.5) * 3)));
}
