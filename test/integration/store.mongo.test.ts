/**
 * The JobStore conformance suite against a real MongoDB, plus the adapter's MongoDB-specific
 * promises (indexes, retention, document shape). Runs only when MONGODB_URI is set, e.g.
 *   MONGODB_URI=mongodb://127.0.0.1:27017 npm run test:integration
 * (docker compose up mongo; CI sets it). Each run uses its own database and drops it afterwards.
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { MongoJobStore } from '../../libs/store/mongo.ts';
import { JOBS_COLLECTION } from '../../libs/store/mongoSchema.ts';
import { parseMongoUrl } from '../../libs/store/mongoUrl.ts';
import { openJobStore } from '../../libs/store/open.ts';
import { describeJobStoreConformance, makeJobRecord } from '../helpers/storeConformance.ts';

const uri = process.env.MONGODB_URI;
const SKIPPED = 'MONGODB_URI not set: MongoDB conformance skipped (set it, e.g. to mongodb://127.0.0.1:27017, to run it)';

if (!uri) {
  console.warn(`[store.mongo] ${SKIPPED}`);
  describe('JobStore conformance: mongodb', () => {
    it.skip(SKIPPED, () => {});
  });
} else {
  // Short (MongoDB limits database names to 63 bytes) and unique per run and per process.
  const dbName = `gw_test_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
  const driverUrl = parseMongoUrl(uri).url;

  /** Runs `fn` on a plain connection to this run's database (to inspect what the store wrote). */
  const withDb = async <T>(fn: (db: mongoose.mongo.Db) => Promise<T>): Promise<T> => {
    const conn = await mongoose.createConnection(driverUrl, { dbName }).asPromise();
    try {
      if (!conn.db) throw new Error('connection has no db');
      return await fn(conn.db);
    } finally {
      await conn.close();
    }
  };
  const dropDatabase = () => withDb((db) => db.dropDatabase().then(() => undefined));

  describeJobStoreConformance(
    'mongodb',
    async () => {
      const store = new MongoJobStore(uri, { dbName, serverSelectionTimeoutMs: 5000 });
      await store.init();
      return store;
    },
    dropDatabase,
  );

  describe('MongoJobStore on a real server', () => {
    afterAll(dropDatabase);

    it('creates the query and TTL indexes', async () => {
      const store = new MongoJobStore(uri, { dbName });
      await store.init();
      await store.close();
      const indexes = await withDb((db) => db.collection(JOBS_COLLECTION).indexes());
      const byName = new Map(indexes.map((ix) => [ix.name, ix]));
      expect(byName.get('client_created_id')?.key).toEqual({ client_id: 1, created_at: -1, _id: -1 });
      expect(byName.get('client_user_created')?.key).toEqual({ client_id: 1, user_id: 1, created_at: -1, _id: -1 });
      expect(byName.get('status_completed')?.key).toEqual({ status: 1, completed_at: -1 });
      expect(byName.get('feature_experiment_completed')?.key).toEqual({
        feature: 1,
        'experiment.id': 1,
        'experiment.variant': 1,
        completed_at: -1,
      });
      expect(byName.get('retention_ttl')).toMatchObject({ key: { expires_at: 1 }, expireAfterSeconds: 0 });
    });

    it('stores the id as _id with an expiry date from retention_days, and no __v', async () => {
      const store = new MongoJobStore(uri, { dbName, retentionDays: 10 });
      await store.init();
      const job = makeJobRecord();
      const before = Date.now();
      try {
        await store.save(job);
      } finally {
        await store.close();
      }
      const doc = await withDb((db) => db.collection<{ _id: string }>(JOBS_COLLECTION).findOne({ _id: job.id }));
      expect(doc).not.toBeNull();
      expect(doc).not.toHaveProperty('id');
      expect(doc).not.toHaveProperty('__v');
      const expires = (doc as { expires_at?: unknown }).expires_at;
      expect(expires).toBeInstanceOf(Date);
      const tenDays = 10 * 86_400_000;
      expect((expires as Date).getTime()).toBeGreaterThanOrEqual(before + tenDays);
      expect((expires as Date).getTime()).toBeLessThanOrEqual(Date.now() + tenDays);
    });

    it('keeps records forever with retention_days=0 given in the URL', async () => {
      // The run's database in the URL's path, so openJobStore never touches a real one.
      const [, hosts = '', query] = /^(mongodb(?:\+srv)?:\/\/[^/?#]*)(?:\/[^?]*)?(?:\?(.*))?$/i.exec(driverUrl) ?? [];
      const store = await openJobStore(`${hosts}/${dbName}?${query ? `${query}&` : ''}retention_days=0`);
      const job = makeJobRecord();
      try {
        expect(store).toBeInstanceOf(MongoJobStore);
        expect(store).toMatchObject({ dbName, retentionDays: 0 });
        await store.save(job);
        expect(await store.get(job.client_id, job.id)).toEqual(job);
      } finally {
        await store.close();
      }
      const doc = await withDb((db) => db.collection<{ _id: string }>(JOBS_COLLECTION).findOne({ _id: job.id }));
      expect(doc).not.toBeNull();
      expect(doc).not.toHaveProperty('expires_at');
    });

    it('treats an id as data, never as a query operator', async () => {
      const store = new MongoJobStore(uri, { dbName });
      await store.init();
      try {
        await store.save(makeJobRecord({ client_id: 'client-a' }));
        const sneaky = { $ne: 'nothing' } as unknown as string;
        await expect(store.get('client-a', sneaky).catch(() => null)).resolves.toBeNull();
      } finally {
        await store.close();
      }
    });
  });
}
