/**
 * The job search's cost on the SQLite store: fills a temporary file with JOBS records (~1 KB each,
 * one client holding 90% of them, 2,000 users, 5% failed, 1% with metadata plan=pro), then times
 * the searches GET /v1/jobs runs (medians and p95 of 50 each), and the batched intake writes with
 * and without the search indexes. Usage: `node scripts/bench/searchStore.ts [JOBS]` (default
 * 100000); the file is removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SEARCH_SCAN_LIMIT } from '../../libs/jobs/search.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import type { JobRecord, JobSearchQuery } from '../../libs/store/types.ts';

const JOBS = Number(process.argv[2] ?? 100_000);
const USERS = 2000;
const dir = mkdtempSync(join(tmpdir(), 'search-bench-'));

function record(i: number): JobRecord {
  const at = new Date(Date.UTC(2025, 0, 1) + i * 15_000).toISOString();
  return {
    id: randomUUID(), client_id: i % 10 === 0 ? 'other' : 'rails', status: i % 20 === 3 ? 'failed' : 'completed', feature: 'career_path_navigator',
    prompt_version: 'v3', experiment: { id: 'exp', variant: i % 2 ? 'gpt4' : 'claude' }, provider: 'openai', model: 'gpt-4',
    result: { text: 'x'.repeat(800) }, usage: { input_tokens: 500, output_tokens: 500 }, cost_usd: 0.01, cache: 'miss', degraded: false,
    attempts: 1, provider_attempts: [], error: null, latency_ms: { queue: 5, provider: 1500, total: 1510 }, user_id: `user-${i % USERS}`,
    metadata: { plan: i % 100 === 7 ? 'pro' : 'free' }, created_at: at, started_at: at, completed_at: at,
  };
}

/** Writes JOBS records in batches of 500 and answers the microseconds per record. */
async function fill(store: SqliteJobStore): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < JOBS; i += 500) await store.saveMany(Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => record(i + k)));
  return ((performance.now() - started) * 1000) / JOBS;
}

async function time(store: SqliteJobStore, name: string, query: JobSearchQuery): Promise<void> {
  const runs: number[] = [];
  let found = 0;
  for (let r = 0; r < 50; r++) {
    const started = performance.now();
    found = (await store.searchJobs(query)).jobs.length;
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(48)} ${String(found).padStart(4)} jobs  median ${runs[25]!.toFixed(2)} ms  p95 ${runs[47]!.toFixed(2)} ms`);
}

try {
  // Intake writes without the search indexes (as schema version 2 had them), for comparison.
  const bare = new SqliteJobStore(join(dir, 'bare.sqlite'));
  await bare.init();
  const db = new DatabaseSync(join(dir, 'bare.sqlite'));
  db.exec('DROP INDEX jobs_client_user_created; DROP INDEX jobs_client_created_id; CREATE INDEX jobs_client_created ON jobs (client_id, created_at);');
  db.close();
  console.log(`intake writes without the search indexes: ${(await fill(bare)).toFixed(1)} µs per record`);
  await bare.close();

  const store = new SqliteJobStore(join(dir, 'search.sqlite'));
  await store.init();
  console.log(`intake writes with the search indexes:    ${(await fill(store)).toFixed(1)} µs per record`);
  const rails = { clientId: 'rails', limit: 50, scanLimit: SEARCH_SCAN_LIMIT };
  const middle = (await store.searchJobs({ clientId: 'rails', limit: Math.floor(JOBS * 0.45) })).jobs.at(-1)!;
  const after = { created_at: middle.created_at, id: middle.id };
  await time(store, 'a user, first page', { ...rails, userId: 'user-7' });
  await time(store, 'a user, deep behind a cursor', { ...rails, userId: 'user-7', after });
  await time(store, 'the client, first page', rails);
  await time(store, 'the client, deep behind a cursor', { ...rails, after });
  await time(store, 'the client, one day (limit 200)', { ...rails, since: '2025-01-10T00:00:00.000Z', until: '2025-01-11T00:00:00.000Z', limit: 200 });
  await time(store, 'status=failed (5%)', { ...rails, statuses: ['failed'] });
  await time(store, 'metadata.plan=pro (1%)', { ...rails, metadata: { plan: 'pro' } });
  await time(store, 'status=cancelled (no match)', { ...rails, statuses: ['cancelled'] });
  const { scanLimit: _unbounded, ...unbounded } = rails;
  await time(store, 'status=cancelled (no match), no scan limit', { ...unbounded, statuses: ['cancelled'] });
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
