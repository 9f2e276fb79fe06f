import { describe, expect, test } from 'vitest';
import type { JobRecord, JobStore } from './types.ts';
import { BatchWriter } from './batchWriter.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';

function recordingStore(fail = false): JobStore & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    init: async () => {},
    save: async () => {},
    saveMany: async (jobs: JobRecord[]) => {
      if (fail) throw new Error('disk full');
      batches.push(jobs.map((j) => j.id));
    },
    get: async () => null,
    getMany: async () => [],
    saveFeedback: async () => {},
    getFeedback: async () => null,
    experimentRows: async () => [],
    ping: async () => true,
    close: async () => {},
  };
}

describe('BatchWriter', () => {
  test('records saved in the same turn share one transaction; save resolves once written', async () => {
    const store = recordingStore();
    const writer = new BatchWriter(store);
    await Promise.all(['a', 'b', 'c'].map((id) => writer.save(makeJobRecord({ id }))));
    await writer.save(makeJobRecord({ id: 'd' }));
    expect(store.batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  test('a full batch is written at once, and a failed write rejects every save of its batch', async () => {
    const store = recordingStore();
    const writer = new BatchWriter(store, { maxBatch: 2 });
    await Promise.all(['a', 'b', 'c'].map((id) => writer.save(makeJobRecord({ id }))));
    expect(store.batches).toEqual([['a', 'b'], ['c']]);
    const failing = new BatchWriter(recordingStore(true));
    const saves = ['x', 'y'].map((id) => failing.save(makeJobRecord({ id })));
    for (const s of saves) await expect(s).rejects.toThrow('disk full');
  });
});
