import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { openJobStore } from '../../libs/store/open.ts';
import { SQLITE_SCHEMA_VERSION, SqliteJobStore } from '../../libs/store/sqlite.ts';
import { describeJobStoreConformance, makeJobRecord } from '../helpers/storeConformance.ts';

const dir = join(tmpdir(), `gateway-store-${randomUUID()}`);
const removeDir = () => rm(dir, { recursive: true, force: true });

describeJobStoreConformance('sqlite', () => openJobStore(`sqlite://${join(dir, 'conformance.sqlite')}`), removeDir);

describe('SqliteJobStore on a shared file', () => {
  afterAll(removeDir);

  it('creates the parent directory, WAL mode and the schema version', async () => {
    const file = join(dir, 'nested', 'deeper', 'jobs.sqlite');
    const store = new SqliteJobStore(file);
    await store.init();
    await store.close();
    const db = new DatabaseSync(file);
    try {
      expect(db.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
      expect(db.prepare('PRAGMA user_version').get()?.user_version).toBe(SQLITE_SCHEMA_VERSION);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'").all();
      expect(indexes.map((r) => r.name)).toEqual(expect.arrayContaining(['jobs_client_created_id', 'jobs_client_user_created', 'jobs_status_completed']));
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema', async () => {
    const file = join(dir, 'newer.sqlite');
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    await expect(new SqliteJobStore(file).init()).rejects.toMatchObject({ code: 'store_schema_too_new' });
  });

  it('two instances on one file see each other’s writes', async () => {
    const file = join(dir, 'shared.sqlite');
    const a = new SqliteJobStore(file);
    const b = new SqliteJobStore(file);
    await Promise.all([a.init(), b.init()]);
    try {
      const fromA = makeJobRecord({ client_id: 'client-a', status: 'active' });
      await a.save(fromA);
      expect(await b.get('client-a', fromA.id)).toEqual(fromA);

      const fromB = Array.from({ length: 20 }, () => makeJobRecord({ client_id: 'client-b' }));
      await b.saveMany(fromB);
      expect(await a.getMany(fromB.map((j) => j.id))).toEqual(fromB);

      const updated = { ...fromA, status: 'failed' as const };
      await b.save(updated);
      expect(await a.get('client-a', fromA.id)).toEqual(updated);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('another process writing the same file at the same time does not make writes fail', async () => {
    const file = join(dir, 'multiprocess.sqlite');
    const store = new SqliteJobStore(file);
    await store.init();
    const sqliteModule = fileURLToPath(new URL('../../libs/store/sqlite.ts', import.meta.url));
    // The child writes 20 batches of 200 while this process writes its own batches: both contend
    // for the write lock, and the busy timeout must make each wait rather than fail.
    const child = `
      import { SqliteJobStore } from ${JSON.stringify(sqliteModule)};
      const s = new SqliteJobStore(${JSON.stringify(file)});
      await s.init();
      for (let b = 0; b < 20; b++) {
        const jobs = Array.from({ length: 200 }, (_, i) => ({ id: 'child-' + b + '-' + i, client_id: 'child',
          status: 'completed', feature: 'f', user_id: null, created_at: new Date().toISOString(), completed_at: null }));
        await s.saveMany(jobs);
      }
      await s.close();`;
    let childDone = false;
    const run = promisify(execFile)(process.execPath, ['--no-warnings', '--input-type=module', '-e', child]).finally(() => {
      childDone = true;
    });
    try {
      // Keep writing until the child has finished, so the two writers overlap for its whole run.
      const mine = [];
      while (!childDone || mine.length < 1000) {
        const batch = Array.from({ length: 100 }, () => makeJobRecord({ client_id: 'parent' }));
        await store.saveMany(batch);
        mine.push(...batch);
        await new Promise((r) => setImmediate(r));
      }
      await run;
      const childIds = Array.from({ length: 4000 }, (_, n) => `child-${Math.floor(n / 200)}-${n % 200}`);
      expect(await store.getMany(childIds)).toHaveLength(4000);
      expect(await store.getMany(mine.map((j) => j.id))).toHaveLength(mine.length);
    } finally {
      await store.close();
    }
  });
});
