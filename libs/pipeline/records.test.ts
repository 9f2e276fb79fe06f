// What a finished user job's record says about its experiment and category, as the report reads it.
import { pino } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { JobRecord } from '../store/types.ts';
import { SqliteJobStore } from '../store/sqlite.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';
import { finishedSample } from '../telemetry/metrics/sink.ts';
import { jobEvent } from '../telemetry/jobEvent.ts';
import { FIXTURE_NOW as NOW, makeAnsweredJob, makeKeptAnswer } from '../../test/helpers/pipelineFixtures.ts';

const shipped = loadConfig('config');
const store = new SqliteJobStore(':memory:');
await store.init();
afterAll(() => store.close());

/** The shipped config with career_model_ab changed by `change`. */
function withExperiment(change: (e: GatewayConfig['abTests']['experiments'][string]) => void): GatewayConfig {
  const cfg = structuredClone(shipped);
  change(cfg.abTests.experiments.career_model_ab!);
  return cfg;
}

/** Runs job `id` (answered in its data) under `cfg` and answers the record stored for it. */
async function finish(cfg: GatewayConfig, id: string, failed = false): Promise<JobRecord> {
  const deps = {
    config: () => cfg,
    log: pino({ level: 'silent' }),
    budget: { settle: async () => ({ settled: true, status: 'settled', crossed: [] }) },
    save: (record: JobRecord) => store.save(record),
    now: () => NOW,
  } as unknown as PipelineDeps;
  const job = makeAnsweredJob(id, failed ? undefined : makeKeptAnswer());
  if (failed) job.data.feature = 'no_such_feature';
  await processLlmJob(job, 'token', deps).catch(() => undefined);
  const record = await store.get('demo', id);
  if (!record) throw new Error(`no record stored for ${id}`);
  return record;
}

const CATEGORY = { sector: 'unknown', degree_level: 'unknown', experience_band: '3-5' };

describe("a user job's stored record", () => {
  test('an assigned unit: its experiment and variant, and the coarse category', async () => {
    const record = await finish(shipped, 'r-assigned');
    expect(record.experiment).toEqual({ id: 'career_model_ab', variant: 'gpt4' });
    expect(record.category).toEqual(CATEGORY);
  });

  test('a held-out unit: recorded in the experiment, marked holdout, with the control', async () => {
    const record = await finish(withExperiment((e) => (e.holdout = 0.999_999)), 'r-holdout');
    expect(record.experiment).toEqual({ id: 'career_model_ab', variant: 'gpt4', holdout: true });
    expect(record.category).toEqual(CATEGORY);
  });

  test('a paused experiment or one outside its schedule: no experiment, as before', async () => {
    expect((await finish(withExperiment((e) => (e.status = 'paused')), 'r-paused')).experiment).toBeNull();
    expect((await finish(withExperiment((e) => (e.starts_at = '2030-01-01T00:00:00Z')), 'r-early')).experiment).toBeNull();
  });

  test('a job whose feature is gone: failed, without experiment or category', async () => {
    const record = await finish(shipped, 'r-unknown-feature', true);
    expect(record).toMatchObject({ status: 'failed', experiment: null });
    expect(record.category).toBeUndefined();
  });

  test('metrics and telemetry count a held-out job in no variant', async () => {
    const record = await finish(withExperiment((e) => (e.holdout = 0.999_999)), 'r-holdout-metrics');
    expect(finishedSample(record).labels.variant).toBe('');
    expect(jobEvent(record, NOW)).toMatchObject({ experiment: null, variant: null });
    const assigned = await finish(shipped, 'r-assigned-metrics');
    expect(finishedSample(assigned).labels.variant).toBe('gpt4');
    expect(jobEvent(assigned, NOW)).toMatchObject({ experiment: 'career_model_ab', variant: 'gpt4' });
  });
});
