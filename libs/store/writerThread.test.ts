import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { isRecordRefused } from './types.ts';
import { SqliteJobStore } from './sqlite.ts';
import { WriterThread, recordWriterFor } from './writerThread.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh SQLite file opened on this thread, and a WriterThread on the same file. */
async function setup(entry?: URL): Promise<{ store: SqliteJobStore; writer: WriterThread; file: string }> {
  const file = join(tmpdir(), `writer-thread-${randomUUID()}.sqlite`);
  const store = new SqliteJobStore(file);
  await store.init();
  const writer = new WriterThread({ databaseUrl: file, store, ...(entry ? { entry } : {}) });
  cleanups.push(async () => {
    await writer.close();
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  });
  return { store, writer, file };
}

describe('WriterThread', () => {
  test('a save resolves once its record is committed: another connection reads it at once', async () => {
    const { store, writer } = await setup();
    const records = Array.from({ length: 50 }, (_, i) => makeJobRecord({ id: `job-${i}`, status: 'queued', completed_at: null }));
    const outcomes = await Promise.all(records.map((r) => writer.save(r)));
    expect(outcomes).toEqual(records.map(() => 'written'));
    expect(await store.getMany(records.map((r) => r.id))).toHaveLength(50);
  });

  test('keeps the store rule: a terminal record is never replaced (kept_earlier)', async () => {
    const { store, writer } = await setup();
    await store.save(makeJobRecord({ id: 'done', status: 'completed' }));
    expect(await writer.save(makeJobRecord({ id: 'done', status: 'queued', completed_at: null }))).toBe('kept_earlier');
    expect((await store.get('client-a', 'done'))?.status).toBe('completed');
  });

  test('a record the store refuses fails its own save with RecordRefusedError; the others are written', async () => {
    const { store, writer } = await setup();
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 1100; i++) deep = { d: deep };
    const saves = ['a', 'b', 'c'].map((id) => writer.save(makeJobRecord({ id, metadata: id === 'b' ? deep : { id } })));
    const settled = await Promise.allSettled(saves);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refusal = (settled[1] as PromiseRejectedResult).reason as unknown;
    expect(isRecordRefused(refusal)).toBe(true);
    expect(refusal).toMatchObject({ code: 'record_refused', recordIds: ['b'] });
    expect((await store.getMany(['a', 'b', 'c'])).map((r) => r.id)).toEqual(['a', 'c']);
  });

  test('a record that cannot be JSON is refused before it leaves this thread; the others of its turn are written', async () => {
    const { store, writer } = await setup();
    const saves = ['x', 'y', 'z'].map((id) => writer.save(makeJobRecord({ id, metadata: id === 'y' ? { big: 1n } : { id } })));
    const settled = await Promise.allSettled(saves);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'record_refused', recordIds: ['y'] });
    expect((await store.getMany(['x', 'y', 'z'])).map((r) => r.id)).toEqual(['x', 'z']);
  });

  test('a thread that dies with saves in flight: they reject, their records are removed, the next save starts a new thread', async () => {
    const { store, writer } = await setup(new URL('../../test/helpers/crashingWriterThread.ts', import.meta.url));
    await writer.save(makeJobRecord({ id: 'before', status: 'queued', completed_at: null }));
    const removed: string[] = [];
    const removeUnfinished = store.removeUnfinished.bind(store);
    store.removeUnfinished = async (id) => (removed.push(id), removeUnfinished(id));
    // Sent together: one message, which the thread may or may not have committed when it ends.
    const inFlight = ['lost', 'crash-thread'].map((id) => writer.save(makeJobRecord({ id, status: 'queued', completed_at: null })));
    for (const save of inFlight) await expect(save).rejects.toThrow(/exited with code 3/);
    expect(removed.sort()).toEqual(['crash-thread', 'lost']);
    expect(await store.getMany(['lost', 'crash-thread'])).toEqual([]);
    expect(await writer.save(makeJobRecord({ id: 'after', status: 'queued', completed_at: null }))).toBe('written');
    expect((await store.getMany(['before', 'after'])).map((r) => r.id)).toEqual(['before', 'after']);
  });

  test('a removal that fails is tried again; one that never succeeds is reported before the save fails', async () => {
    const file = join(tmpdir(), `writer-thread-${randomUUID()}.sqlite`);
    const store = new SqliteJobStore(file);
    await store.init();
    const tries = new Map<string, number>();
    const undoFailed: string[] = [];
    const flaky = {
      removeUnfinished: async (id: string) => {
        const n = (tries.get(id) ?? 0) + 1;
        tries.set(id, n);
        // 'lost' comes back on its third try; 'crash-thread' never does.
        if (id === 'crash-thread' || n < 3) throw new Error('disk I/O error');
        return store.removeUnfinished(id);
      },
    };
    const writer = new WriterThread({
      databaseUrl: file,
      store: flaky,
      entry: new URL('../../test/helpers/crashingWriterThread.ts', import.meta.url),
      onUndoFailed: (id) => undoFailed.push(id),
      sleep: async () => {},
    });
    cleanups.push(async () => {
      await writer.close();
      await store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    });
    const inFlight = ['lost', 'crash-thread'].map((id) => writer.save(makeJobRecord({ id, status: 'queued', completed_at: null })));
    for (const save of inFlight) await expect(save).rejects.toThrow(/exited with code 3/);
    expect(Object.fromEntries(tries)).toEqual({ lost: 3, 'crash-thread': 4 });
    expect(undoFailed).toEqual(['crash-thread']);
  });

  test('close waits for the saves in flight; saves after close reject', async () => {
    const { store, writer } = await setup();
    const saves = ['x', 'y'].map((id) => writer.save(makeJobRecord({ id })));
    await writer.close();
    expect(await Promise.all(saves)).toEqual(['written', 'written']);
    expect(await store.getMany(['x', 'y'])).toHaveLength(2);
    await expect(writer.save(makeJobRecord({ id: 'z' }))).rejects.toThrow(/closed/);
  });
});

describe('recordWriterFor', () => {
  test('SQLite :memory: writes in process (no thread can open a private database)', async () => {
    const store = new SqliteJobStore(':memory:');
    await store.init();
    const writer = recordWriterFor(':memory:', store);
    expect(writer).not.toBeInstanceOf(WriterThread);
    expect(await writer.save(makeJobRecord({ id: 'm' }))).toBe('written');
    await writer.close();
    expect(await store.get('client-a', 'm')).not.toBeNull();
    await store.close();
  });
});

