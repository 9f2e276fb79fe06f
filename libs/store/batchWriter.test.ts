import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RecordRefusedError, isRecordRefused, type JobRecord, type JobStore } from './types.ts';
import { BatchWriter } from './batchWriter.ts';
import { SqliteJobStore } from './sqlite.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';

/** How the fake store answers a batch that holds a poisoned record. */
type Refusal = 'names-first' | 'names-all' | 'names-none';

function recordingStore(options: { fail?: boolean; refusal?: Refusal; failAfterRefusal?: boolean } = {}): JobStore & { batches: string[][]; written: Set<string> } {
  const batches: string[][] = [];
  const written = new Set<string>();
  let refusedOnce = false;
  return {
    batches,
    written,
    init: async () => {},
    save: async () => 'written' as const,
    saveMany: async (jobs: JobRecord[]) => {
      batches.push(jobs.map((j) => j.id));
      if (options.fail) throw new Error('disk full');
      if (options.failAfterRefusal && refusedOnce) throw new Error('database is locked');
      const poisoned = jobs.filter((j) => j.metadata?.poison === true).map((j) => j.id);
      if (poisoned.length > 0) {
        refusedOnce = true;
        const named = options.refusal === 'names-all' ? poisoned : options.refusal === 'names-none' ? [] : poisoned.slice(0, 1);
        throw new RecordRefusedError(named, 'malformed JSON');
      }
      for (const j of jobs) written.add(j.id);
      return jobs.map(() => 'written' as const);
    },
    get: async () => null,
    getMany: async () => [],
    saveFeedback: async () => {},
    getFeedback: async () => null,
    experimentRows: async () => [],
    searchJobs: async () => ({ jobs: [], resumeAfter: null }),
    removeUnfinished: async () => false,
    unfinished: async () => [],
    spentMicros: async () => 0,
    finishedRows: async () => [],
    ping: async () => true,
    close: async () => {},
  };
}

const ids = (n: number, poisoned: number[]) => Array.from({ length: n }, (_, i) => makeJobRecord({ id: `r${i}`, metadata: { poison: poisoned.includes(i) } }));

/** Saves every record in one turn and flushes once; answers which saves were refused and what else failed. */
async function saveAll(writer: BatchWriter, records: JobRecord[]): Promise<{ refused: string[]; failed: unknown[] }> {
  // Watch the saves before flushing: the writer yields between passes, so refusals land in later turns.
  const settled = Promise.allSettled(records.map((r) => writer.save(r)));
  await writer.flush();
  const outcomes = await settled;
  const refused: string[] = [];
  const failed: unknown[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') return;
    if (isRecordRefused(o.reason)) {
      expect(o.reason.recordIds).toEqual([records[i]!.id]);
      refused.push(records[i]!.id);
    } else failed.push(o.reason);
  });
  return { refused, failed };
}

describe('BatchWriter', () => {
  test('records saved in the same turn share one transaction; save resolves once written', async () => {
    const store = recordingStore();
    const writer = new BatchWriter(store);
    await Promise.all(['a', 'b', 'c'].map((id) => writer.save(makeJobRecord({ id }))));
    await writer.save(makeJobRecord({ id: 'd' }));
    expect(store.batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  test('a full batch is written at once, and an unavailable store rejects every save of its batch', async () => {
    const store = recordingStore();
    const writer = new BatchWriter(store, { maxBatch: 2 });
    await Promise.all(['a', 'b', 'c'].map((id) => writer.save(makeJobRecord({ id }))));
    expect(store.batches).toEqual([['a', 'b'], ['c']]);
    const failing = new BatchWriter(recordingStore({ fail: true }));
    const saves = ['x', 'y'].map((id) => failing.save(makeJobRecord({ id })));
    for (const s of saves) await expect(s).rejects.toThrow('disk full');
  });

  test.each<[Refusal, number[]]>([
    ['names-first', [7]],
    ['names-first', [0, 5, 9]],
    ['names-all', [2, 3]],
    ['names-none', [4]],
    ['names-none', [0, 1, 8]],
  ])('a refused record fails its own save alone; the rest are written in the same flush (store %s, poisoned %j)', async (refusal, poisoned) => {
    const store = recordingStore({ refusal });
    const records = ids(10, poisoned);
    const { refused, failed } = await saveAll(new BatchWriter(store), records);
    expect(failed).toEqual([]);
    expect(refused.sort()).toEqual(poisoned.map((i) => `r${i}`).sort());
    expect([...store.written].sort()).toEqual(records.map((r) => r.id).filter((id) => !refused.includes(id)).sort());
  });

  test('a store that names the refused records costs one extra transaction per refusal, not one per record', async () => {
    const store = recordingStore({ refusal: 'names-all' });
    await saveAll(new BatchWriter(store), ids(100, [10, 60]));
    expect(store.batches.map((b) => b.length)).toEqual([100, 98]);
  });

  test('an unavailable store while the rest is written again rejects the rest with its error', async () => {
    const store = recordingStore({ refusal: 'names-first', failAfterRefusal: true });
    const { refused, failed } = await saveAll(new BatchWriter(store), ids(5, [1]));
    expect(refused).toEqual(['r1']);
    expect(failed).toHaveLength(4);
    for (const e of failed) expect(e).toMatchObject({ message: 'database is locked' });
  });

  test('against a real SQLite file: 300 records, one nested 1,100 deep: 299 written, 1 refused, in one flush', async () => {
    const file = join(tmpdir(), `batch-writer-${randomUUID()}.sqlite`);
    const store = new SqliteJobStore(file);
    await store.init();
    try {
      let deep: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 1100; i++) deep = { d: deep };
      const records = Array.from({ length: 300 }, (_, i) => makeJobRecord({ id: `job-${i}`, metadata: i === 150 ? deep : { i } }));
      const transactions: number[] = [];
      const saveMany = store.saveMany.bind(store);
      store.saveMany = (jobs) => {
        transactions.push(jobs.length);
        return saveMany(jobs);
      };
      const { refused, failed } = await saveAll(new BatchWriter(store, { maxBatch: 300 }), records);
      expect(failed).toEqual([]);
      expect(refused).toEqual(['job-150']);
      expect(transactions).toEqual([300, 299]);
      const stored = await store.getMany(records.map((r) => r.id));
      expect(stored).toHaveLength(299);
      expect(stored.find((r) => r.id === 'job-150')).toBeUndefined();
      const error = await store.save(records[150]!).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'record_refused', recordIds: ['job-150'] });
      expect((error as RecordRefusedError).reason).toMatch(/malformed JSON/);
    } finally {
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    }
  });
});
