import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import { SqliteJobStore } from '../store/sqlite.ts';
import { BatchWriter } from '../store/batchWriter.ts';
import { finishStalledOut, processLlmJob, type PipelineDeps } from './llmJob.ts';

const NOW = new Date('2025-03-01T10:00:05.000Z');
const config = loadConfig('config');
const store = new SqliteJobStore(':memory:');
await store.init();
afterAll(() => store.close());

function answer(overrides: Partial<KeptAnswer>): KeptAnswer {
  return {
    holdId: 'job-1:1',
    costMicros: 12_345,
    servedBy: 'provider',
    cache: 'miss',
    degraded: false,
    attempts: [],
    provider: 'openai',
    model: 'gpt-4',
    variant: 'gpt4',
    promptVersion: 'v1',
    text: 'a paid plan',
    inputTokens: 300,
    outputTokens: 200,
    cachedInputTokens: 0,
    finishReason: 'stop',
    providerLatencyMs: 900,
    startedAt: NOW.toISOString(),
    ...overrides,
  };
}

function job(id: string, kept: KeptAnswer): Job<LlmJobData> {
  const data: LlmJobData = {
    clientId: 'demo',
    feature: 'career_path_navigator',
    input: { current_role: 'Analyst', years_experience: 3, target_roles: ['Data Scientist'], skills: ['sql'], education: { degree: 'BSc', field: 'Maths' } },
    userId: 'u-1',
    callbackUrl: 'https://example.com/hook',
    metadata: null,
    createdAt: '2025-03-01T10:00:00.000Z',
    answer: kept,
  };
  return { id, data, attemptsMade: 0, attemptsStarted: 1, processedOn: Date.parse('2025-03-01T10:00:01.000Z'), opts: { attempts: 3 } } as unknown as Job<LlmJobData>;
}

/** Pipeline deps on a real store (through the worker's BatchWriter), counting settles and announcements. */
function deps() {
  const announced: JobRecord[] = [];
  const settled: string[] = [];
  const noop = () => {};
  const writer = new BatchWriter(store);
  const d = {
    config: () => config,
    log: { error: noop, warn: noop, info: noop, debug: noop } as unknown as Logger,
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
    await processLlmJob(job('dup-1', answer({})), 'token', d);
    // A stalled run still alive, served by the cache the first run filled: cost 0.
    await processLlmJob(job('dup-1', answer({ holdId: 'job-1:2', costMicros: 0, servedBy: 'cache', cache: 'hit' })), 'token', d);
    expect(settled).toEqual(['job-1:1', 'job-1:2']);
    expect(announced.map((r) => [r.id, r.cost_usd])).toEqual([['dup-1', 0.012345]]);
    expect(await store.get('demo', 'dup-1')).toMatchObject({ status: 'completed', cost_usd: 0.012345, served_by: 'provider' });
  });

  test('every worker finishing a stalled-out job: one record, one announcement', async () => {
    const { deps: d, announced } = deps();
    await Promise.all([finishStalledOut(job('stalled-1', answer({})), d), finishStalledOut(job('stalled-1', answer({})), d), finishStalledOut(job('stalled-1', answer({})), d)]);
    expect(announced).toHaveLength(1);
  });
});
