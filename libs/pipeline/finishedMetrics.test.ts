import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { JobRecord } from '../store/types.ts';
import { SqliteJobStore } from '../store/sqlite.ts';
import { BatchWriter } from '../store/batchWriter.ts';
import { finishStalledOut, processLlmJob, type PipelineDeps } from './llmJob.ts';
import { NOOP_PIPELINE_METRICS, type PipelineMetrics } from '../telemetry/metrics/sink.ts';
import { FIXTURE_NOW as NOW, makeAnsweredJob, makeKeptAnswer } from '../../test/helpers/pipelineFixtures.ts';

const config = loadConfig('config');
const store = new SqliteJobStore(':memory:');
await store.init();
afterAll(() => store.close());

/** Pipeline deps on a real store, with a metrics sink that keeps the records it hears of. */
function deps() {
  const finished: JobRecord[] = [];
  const metrics: PipelineMetrics = { ...NOOP_PIPELINE_METRICS, jobFinished: (record) => void finished.push(record) };
  const writer = new BatchWriter(store);
  const d = {
    config: () => config,
    log: pino({ level: 'silent' }),
    budget: { settle: async () => ({ settled: true, status: 'settled', crossed: [] }) },
    save: (record: JobRecord) => writer.save(record),
    metrics,
    now: () => NOW,
  } as unknown as PipelineDeps;
  return { deps: d, finished };
}

describe('the pipeline reports each finished job to its metrics once', () => {
  test('a stored answer is reported with the stored record; a duplicate run is not', async () => {
    const { deps: d, finished } = deps();
    await processLlmJob(makeAnsweredJob('m-1', makeKeptAnswer()), 'token', d);
    await processLlmJob(makeAnsweredJob('m-1', makeKeptAnswer({ holdId: 'job-1:2', costMicros: 0, servedBy: 'cache', cache: 'hit' })), 'token', d);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toEqual(await store.get('demo', 'm-1'));
  });

  test('every worker ending a stalled-out job: reported once', async () => {
    const { deps: d, finished } = deps();
    await Promise.all([1, 2, 3].map(() => finishStalledOut(makeAnsweredJob('m-2', makeKeptAnswer()), d)));
    expect(finished.map((r) => r.id)).toEqual(['m-2']);
  });
});
