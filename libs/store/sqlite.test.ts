// SqliteJobStore's schema upgrades and query plans; the conformance suite is in
// test/integration/store.sqlite.test.ts.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { makeFeedbackRecord, makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { SQLITE_SCHEMA_VERSION, SqliteJobStore } from './sqlite.ts';

const files: string[] = [];
const tempFile = () => {
  const file = join(tmpdir(), `sqlite-store-${randomUUID()}.sqlite`);
  files.push(file, `${file}-wal`, `${file}-shm`);
  return file;
};
afterAll(() => {
  for (const file of files) rmSync(file, { force: true });
});

// The schema exactly as version 1 of the gateway created it.
const V1_SCHEMA = `
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  status TEXT NOT NULL,
  feature TEXT NOT NULL,
  user_id TEXT,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  doc TEXT NOT NULL
);
CREATE INDEX jobs_client_created ON jobs (client_id, created_at);
CREATE INDEX jobs_status_completed ON jobs (status, completed_at);
PRAGMA user_version = 1;
`;

/** Writes `jobs` the way version 1 did (no experiment column). */
function writeV1File(file: string, jobs: ReturnType<typeof makeJobRecord>[]): void {
  const db = new DatabaseSync(file);
  try {
    db.exec(V1_SCHEMA);
    const insert = db.prepare('INSERT INTO jobs (id, client_id, status, feature, user_id, created_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const j of jobs) insert.run(j.id, j.client_id, j.status, j.feature, j.user_id, j.created_at, j.completed_at, JSON.stringify(j));
  } finally {
    db.close();
  }
}

describe('SqliteJobStore schema upgrades', () => {
  it('upgrades a version-1 file in place: old records kept, reportable, ratable and searchable', async () => {
    const file = tempFile();
    const old = makeJobRecord({ experiment: { id: 'career_model_ab', variant: 'gpt4' }, served_by: 'provider' });
    const noExperiment = makeJobRecord({ experiment: null });
    writeV1File(file, [old, noExperiment]);

    const store = new SqliteJobStore(file);
    await store.init();
    try {
      expect(await store.get(old.client_id, old.id)).toEqual(old);
      await store.saveFeedback(makeFeedbackRecord(old, { rating: 3 }));
      const rows = await store.experimentRows(old.client_id, 'career_model_ab', '2025-01-01T00:00:00.000Z');
      expect(rows).toEqual([expect.objectContaining({ variant: 'gpt4', served_by: 'provider', rating: 3 })]);
      const found = await store.searchJobs({ clientId: old.client_id, userId: old.user_id!, limit: 10 });
      expect(found.jobs.map((j) => j.id).sort()).toEqual([old.id, noExperiment.id].sort());
    } finally {
      await store.close();
    }

    const db = new DatabaseSync(file);
    try {
      expect(db.prepare('PRAGMA user_version').get()?.user_version).toBe(SQLITE_SCHEMA_VERSION);
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type IN ('index', 'table')").all().map((r) => r.name);
      expect(names).toEqual(expect.arrayContaining(['feedback', 'feedback_client', 'experiment_rows', 'experiment_rows_job', 'jobs_client_user_created', 'jobs_client_created_id']));
      // Superseded by jobs_client_created_id and experiment_rows, which serve every query they did.
      expect(names).not.toContain('jobs_client_created');
      expect(names).not.toContain('jobs_client_experiment_created');
    } finally {
      db.close();
    }

    // Opening again (another process, a restart) finds nothing left to do.
    const again = new SqliteJobStore(file);
    await again.init();
    expect(await again.getFeedback(old.client_id, old.id)).toMatchObject({ rating: 3 });
    await again.close();
  });

  it('indexes records written without the adapter knowing the column (a version-1 process during a rolling upgrade)', async () => {
    const file = tempFile();
    const store = new SqliteJobStore(file);
    await store.init();
    const job = makeJobRecord({ experiment: { id: 'exp-rolling', variant: 'claude' } });
    // The version-1 INSERT, column for column.
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO jobs (id, client_id, status, feature, user_id, created_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      job.id, job.client_id, job.status, job.feature, job.user_id, job.created_at, job.completed_at, JSON.stringify(job),
    );
    db.close();
    try {
      expect(await store.experimentRows(job.client_id, 'exp-rolling', '2025-01-01T00:00:00.000Z')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('fills experiment_rows from the jobs and ratings of a version-3 file, once', async () => {
    const file = tempFile();
    const store = new SqliteJobStore(file);
    await store.init();
    const job = makeJobRecord({ experiment: { id: 'exp-v3', variant: 'claude' }, served_by: 'provider' });
    await store.save(job);
    await store.saveFeedback(makeFeedbackRecord(job, { rating: 4 }));
    await store.close();
    // What a version-3 file holds: the same jobs and feedback, no report table.
    const db = new DatabaseSync(file);
    db.exec(`${['jobs_experiment_row_insert', 'jobs_experiment_row_update', 'jobs_experiment_row_delete', 'feedback_experiment_row_insert', 'feedback_experiment_row_update', 'feedback_experiment_row_delete'].map((t) => `DROP TRIGGER ${t};`).join(' ')} DROP TABLE experiment_rows; PRAGMA user_version = 3;`);
    db.close();

    const upgraded = new SqliteJobStore(file);
    await upgraded.init();
    try {
      expect(await upgraded.experimentRows(null, 'exp-v3', '2025-01-01T00:00:00.000Z')).toEqual([expect.objectContaining({ variant: 'claude', rating: 4, unit: job.user_id })]);
    } finally {
      await upgraded.close();
    }
  });

  it('upgrades a version-4 file in place: its rows and triggers gain the lane, ratings kept', async () => {
    const file = tempFile();
    const store = new SqliteJobStore(file);
    await store.init();
    await store.close();
    // Make it the version-4 file: job triggers and rows without the lane (the last field).
    const db = new DatabaseSync(file);
    const laneField = ", json_extract(NEW.doc, '$.lane'))";
    for (const name of ['jobs_experiment_row_insert', 'jobs_experiment_row_update']) {
      const sql = String(db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name)?.sql);
      expect(sql).toContain(laneField);
      db.exec(`DROP TRIGGER ${name}; ${sql.replace(laneField, ')')};`);
    }
    db.exec('PRAGMA user_version = 4');
    const insert = db.prepare('INSERT INTO jobs (id, client_id, status, feature, user_id, created_at, completed_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const batch = makeJobRecord({ experiment: { id: 'exp-v4', variant: 'claude' }, lane: 'batch', created_at: '2025-03-01T10:00:00.000Z' });
    const realtime = makeJobRecord({ experiment: { id: 'exp-v4', variant: 'gpt4' }, lane: 'realtime', created_at: '2025-03-01T10:01:00.000Z' });
    const older = makeJobRecord({ experiment: { id: 'exp-v4', variant: 'gpt4' }, created_at: '2025-03-01T10:02:00.000Z' });
    for (const j of [batch, realtime, older]) insert.run(j.id, j.client_id, j.status, j.feature, j.user_id, j.created_at, j.completed_at, JSON.stringify(j));
    db.prepare('INSERT INTO feedback (job_id, client_id, rating, helpful, comment, created_at) VALUES (?, ?, 2, NULL, NULL, ?)').run(batch.id, batch.client_id, batch.created_at);
    // Version 4 kept 17 fields per row.
    expect(db.prepare('SELECT json_array_length(fields) AS n FROM experiment_rows WHERE job_id = ?').get(batch.id)?.n).toBe(17);
    db.close();

    const upgraded = new SqliteJobStore(file);
    await upgraded.init();
    try {
      const rows = await upgraded.experimentRows(null, 'exp-v4', '2025-01-01T00:00:00.000Z');
      expect(rows.map((r) => [r.variant, r.lane, r.rating])).toEqual([
        ['claude', 'batch', 2],
        ['gpt4', 'realtime', null],
        ['gpt4', 'realtime', null],
      ]);
      // The rebuilt triggers copy the lane of jobs written from now on.
      const later = makeJobRecord({ experiment: { id: 'exp-v4', variant: 'gpt4' }, lane: 'batch', created_at: '2025-03-01T10:03:00.000Z' });
      await upgraded.save(later);
      expect((await upgraded.experimentRows(null, 'exp-v4', later.created_at)).map((r) => r.lane)).toEqual(['batch']);
    } finally {
      await upgraded.close();
    }
    const check = new DatabaseSync(file);
    try {
      expect(check.prepare('PRAGMA user_version').get()?.user_version).toBe(SQLITE_SCHEMA_VERSION);
    } finally {
      check.close();
    }
  });

  it("answers the report from experiment_rows' keys, for one client and for every client", async () => {
    const file = tempFile();
    const store = new SqliteJobStore(file);
    await store.init();
    await store.close();
    const db = new DatabaseSync(file);
    const plan = (sql: string, ...params: string[]) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => String(r.detail)).join('\n');
    try {
      const ofClient = plan('SELECT fields, rating FROM experiment_rows WHERE client_id = ? AND experiment_id = ? AND created_at >= ?', 'a', 'e', '2025-01-01');
      expect(ofClient).toMatch(/SEARCH experiment_rows USING PRIMARY KEY \(experiment_id=\? AND created_at>\?\)/);
      const everyClient = plan('SELECT fields, rating FROM experiment_rows WHERE experiment_id = ? AND created_at >= ?', 'e', '2025-01-01');
      expect(everyClient).toMatch(/SEARCH experiment_rows USING PRIMARY KEY \(experiment_id=\? AND created_at>\?\)/);
    } finally {
      db.close();
    }
  });

  it('keeps experiment_rows in step with job writes, ratings and deletions', async () => {
    const store = new SqliteJobStore(':memory:');
    await store.init();
    try {
      const since = '2025-01-01T00:00:00.000Z';
      const queued = makeJobRecord({ status: 'queued', experiment: null, completed_at: null });
      await store.save(queued);
      expect(await store.experimentRows(null, 'career_model_ab', since)).toEqual([]);
      // The finished record replaces the queued one and joins the experiment.
      await store.save({ ...queued, status: 'completed', experiment: { id: 'career_model_ab', variant: 'gpt4' }, completed_at: queued.created_at });
      await store.saveFeedback(makeFeedbackRecord(queued, { rating: 2 }));
      await store.saveFeedback(makeFeedbackRecord(queued, { rating: 5 }));
      expect(await store.experimentRows(null, 'career_model_ab', since)).toEqual([expect.objectContaining({ status: 'completed', rating: 5 })]);
      const unfinished = makeJobRecord({ status: 'active', experiment: { id: 'career_model_ab', variant: 'claude' }, completed_at: null });
      await store.save(unfinished);
      expect(await store.experimentRows(null, 'career_model_ab', since)).toHaveLength(2);
      await store.removeUnfinished(unfinished.id);
      expect(await store.experimentRows(null, 'career_model_ab', since)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('refuses a rating outside 1-5 at the database too', async () => {
    const store = new SqliteJobStore(':memory:');
    await store.init();
    try {
      await expect(store.saveFeedback(makeFeedbackRecord(makeJobRecord(), { rating: 9 }))).rejects.toThrow(/CHECK/);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteJobStore opening a file another process is setting up', () => {
  it('waits for the other connection instead of failing with "database is locked"', async () => {
    const path = tempFile();
    // Another process is creating the file's schema: it holds the write lock for a while.
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    other.exec('CREATE TABLE setup_in_progress (x)');
    const committed = new Promise<void>((resolve) =>
      setTimeout(() => {
        other.exec('COMMIT');
        other.close();
        resolve();
      }, 150),
    );
    const store = new SqliteJobStore(path, { busyTimeoutMs: 300 });
    await store.init();
    await committed;
    await store.save(makeJobRecord({ id: 'after-the-race' }));
    expect(await store.get(makeJobRecord({ id: 'x' }).client_id, 'after-the-race')).not.toBeNull();
    await store.close();
  });
});
