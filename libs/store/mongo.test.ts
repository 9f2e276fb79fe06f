// MongoJobStore behaviour that needs no server; the conformance suite against a real server is
// test/integration/store.mongo.test.ts (runs when MONGODB_URI is set).
import { describe, expect, it } from 'vitest';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { MongoJobStore } from './mongo.ts';

// Port 1 refuses connections at once; a short server selection keeps each failure quick.
const UNREACHABLE = 'mongodb://gateway:hunter2@127.0.0.1:1/jobs_db?retention_days=14';

describe('MongoJobStore without a server', () => {
  it('takes the database and retention from the URL, with defaults', () => {
    expect(new MongoJobStore(UNREACHABLE)).toMatchObject({ dbName: 'jobs_db', retentionDays: 14 });
    expect(new MongoJobStore('mongodb://127.0.0.1:1')).toMatchObject({ dbName: 'gateway', retentionDays: 90 });
  });

  it('lets options override the URL', () => {
    const store = new MongoJobStore(UNREACHABLE, { dbName: 'other', retentionDays: 0 });
    expect(store).toMatchObject({ dbName: 'other', retentionDays: 0 });
  });

  it('refuses a bad retention in the URL or the options', () => {
    expect(() => new MongoJobStore('mongodb://h/db?retention_days=soon')).toThrow(expect.objectContaining({ code: 'invalid_database_url' }));
    expect(() => new MongoJobStore('mongodb://h/db', { retentionDays: -3 })).toThrow(expect.objectContaining({ code: 'invalid_database_url' }));
  });

  it('answers ping false and refuses reads and writes before init', async () => {
    const store = new MongoJobStore(UNREACHABLE);
    expect(await store.ping()).toBe(false);
    await expect(store.save(makeJobRecord())).rejects.toMatchObject({ code: 'store_not_ready' });
    await expect(store.saveMany([makeJobRecord()])).rejects.toMatchObject({ code: 'store_not_ready' });
    await expect(store.get('client-a', 'job-1')).rejects.toMatchObject({ code: 'store_not_ready' });
    await expect(store.getMany(['job-1'])).rejects.toMatchObject({ code: 'store_not_ready' });
    // Empty batches need no connection.
    await expect(store.saveMany([])).resolves.toEqual([]);
    await expect(store.getMany([])).resolves.toEqual([]);
    await store.close();
  });

  it('fails init with store_open_failed, without the password, and can be retried', async () => {
    const store = new MongoJobStore(UNREACHABLE, { serverSelectionTimeoutMs: 200 });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await store.init().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'store_open_failed', status: 500 });
      expect((error as Error).message).toContain('jobs_db');
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect(await store.ping()).toBe(false);
    await store.close();
    await store.close();
  });
});
