import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { JobRecord } from '../store/types.ts';
import { SqliteJobStore } from '../store/sqlite.ts';
import { BatchWriter } from '../store/batchWriter.ts';
import { finishStalledOut, processLlmJob, type PipelineDeps } from './llmJob.ts';
import { FIXTURE_NOW as NOW, makeAnsweredJob, makeKeptAnswer } from '../../test/helpers/pipelineFixtures.ts';


const config = loadConfig('config');
const store = new SqliteJobStore(':memory:');
await store.init();
afterAll(() => store.close());

/** Pipeline deps on a real store (through the worker's BatchWriter), counting settles and announcements. */
function deps() {
  const announced: JobRecord[] = [];
  const settled: string[] = [];
  const writer = new BatchWriter(store);
  const d = {
    config: () => config,
    log: pino({ level: 'silent' }),
    budget: { settle: async (holdId: string) => (settled.push(holdId), { settled: true, status: 'settled', crossed: [] }) },
    save: (record: JobRecord) => writer.save(record),
    onFinished: async (record: JobRecord) => void announced.push(record),
    now: () => NOW,
  } as unknown as PipelineDeps;
  return { deps: d, announced, settled };
}

describe("a duplicate run of a finished job (the pipeline on a real store)", () => {
  test('is settled but neither stored over the first outcome nor announced', async () => {
    const { deps: d, announced, settled } = deps();
    await processLlmJob(makeAnsweredJob('dup-1', makeKeptAnswer()), 'token', d);
    // A stalled run still alive, served by the cache the first run filled: cost 0.
    await processLlmJob(makeAnsweredJob('dup-1', makeKeptAnswer({ holdId: 'job-1:2', costMicros: 0, servedBy: 'cache', cache: 'hit' })), 'token', d);
    expect(settled).toEqual(['job-1:1', 'job-1:2']);
    expect(announced.map((r) => [r.id, r.cost_usd])).toEqual([['dup-1', 0.012345]]);
    expect(await store.get('demo', 'dup-1')).toMatchObject({ status: 'completed', cost_usd: 0.012345, served_by: 'provider' });
  });

  test('every worker finishing a stalled-out job: one record, one announcement', async () => {
    const { deps: d, announced } = deps();
    await Promise.all([finishStalledOut(makeAnsweredJob('stalled-1', makeKeptAnswer()), d), finishStalledOut(makeAnsweredJob('stalled-1', makeKeptAnswer()), d), finishStalledOut(makeAnsweredJob('stalled-1', makeKeptAnswer()), d)]);
    expect(announced).toHaveLength(1);
  });
});
