import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { RecordRefusedError, type JobRecord } from '../store/types.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import { finishStalledOut, processLlmJob, type PipelineDeps } from './llmJob.ts';
import { refusedRecord } from './refusedRecord.ts';
import { FIXTURE_NOW as NOW, makeAnsweredJob, makeKeptAnswer } from '../../test/helpers/pipelineFixtures.ts';

describe('refusedRecord', () => {
  test('keeps what the gateway wrote, drops what the caller sent and the answer text', () => {
    const full = makeJobRecord({ callback_url: 'https://example.com/hook', served_by: 'provider' });
    const failed = refusedRecord(full, 'malformed JSON', NOW);
    expect(failed).toMatchObject({
      id: full.id,
      client_id: full.client_id,
      status: 'failed',
      feature: full.feature,
      user_id: full.user_id,
      provider: full.provider,
      model: full.model,
      usage: full.usage,
      cost_usd: full.cost_usd,
      created_at: full.created_at,
      started_at: full.started_at,
      completed_at: NOW.toISOString(),
      callback_url: 'https://example.com/hook',
      metadata: null,
      result: null,
      error: { code: 'record_refused' },
    });
    expect(failed.error!.message).toMatch(/malformed JSON.*cost is counted.*Submit the job again/s);
  });

  test('says nothing of a cost when nothing was paid, and drops user ids and callbacks that are not strings', () => {
    const failed = refusedRecord(makeJobRecord({ cost_usd: 0, user_id: { deep: {} } as unknown as string, callback_url: 7 as unknown as string }), 'too big', NOW);
    expect(failed.error!.message).not.toMatch(/cost/);
    expect(failed).toMatchObject({ user_id: null, callback_url: null });
  });
});

// The pipeline with a kept answer skips the provider call: settle, then store and announce.
const config = loadConfig('config');
let deep: Record<string, unknown> = {};
for (let i = 0; i < 1100; i++) deep = { d: deep };

function keptAnswer(): KeptAnswer {
  return makeKeptAnswer({ attempts: [{ provider: 'openai', model: 'gpt-4', status: 200, latencyMs: 900 }], text: 'a plan' });
}

function fakeJob(answer: KeptAnswer | undefined): Job<LlmJobData> & { delayedTo?: number } {
  const job: Job<LlmJobData> & { delayedTo?: number } = makeAnsweredJob('job-1', answer, deep);
  job.moveToDelayed = async (at: number) => {
    job.delayedTo = at;
  };
  return job;
}

/** Deps whose store refuses records carrying metadata, and whose budget's settle may fail. */
function fakeDeps(options: { settleFails?: boolean; refuseAll?: boolean } = {}) {
  const events: string[] = [];
  const saved: JobRecord[] = [];
  const announced: JobRecord[] = [];
  const errors: string[] = [];
  const noop = () => {};
  const log = { error: (_o: unknown, msg: string) => errors.push(msg), warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const deps = {
    config: () => config,
    log,
    budget: {
      settle: async (holdId: string, micros: number) => {
        events.push(`settle ${holdId} ${micros}`);
        if (options.settleFails) throw new Error('redis down');
        return { settled: true, status: 'settled', crossed: [] };
      },
    },
    save: async (record: JobRecord) => {
      if (options.refuseAll || record.metadata) {
        events.push(`refused ${record.status}`);
        throw new RecordRefusedError([record.id], 'malformed JSON');
      }
      events.push(`saved ${record.status}`);
      saved.push(record);
    },
    onFinished: async (record: JobRecord) => {
      events.push(`announced ${record.status}`);
      announced.push(record);
    },
    now: () => NOW,
  } as unknown as PipelineDeps;
  return { deps, events, saved, announced, errors };
}

describe('a job whose record the store refuses', () => {
  test('fails at once with record_refused: settled once, then its failure stored and announced', async () => {
    const { deps, events, saved, announced } = fakeDeps();
    const job = fakeJob(keptAnswer());
    const error = await processLlmJob(job, 'token', deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/^record_refused/);
    expect(events.filter((e) => e.startsWith('settle'))).toEqual(['settle job-1:1 12345']);
    // The failure is announced only once the cost is settled.
    expect(events.indexOf('settle job-1:1 12345')).toBeLessThan(events.indexOf('saved failed'));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ status: 'failed', error: { code: 'record_refused' }, cost_usd: 0.012345, usage: { input_tokens: 300, output_tokens: 200 }, metadata: null, result: null });
    expect(announced).toEqual(saved);
    expect(job.delayedTo).toBeUndefined();
  });

  test('when the budget does not answer, the job waits and tries again rather than failing uncounted', async () => {
    const { deps, saved, announced } = fakeDeps({ settleFails: true });
    const job = fakeJob(keptAnswer());
    await expect(processLlmJob(job, 'token', deps)).rejects.toBeInstanceOf(DelayedError);
    expect(job.delayedTo).toBeGreaterThan(Date.now());
    expect(saved).toEqual([]);
    expect(announced).toEqual([]);
  });

  test('when even the failure record is refused, an error is logged and the job fails anyway', async () => {
    const { deps, announced, errors } = fakeDeps({ refuseAll: true });
    await expect(processLlmJob(fakeJob(keptAnswer()), 'token', deps)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(errors.some((m) => /refused even the failure record/.test(m))).toBe(true);
    expect(announced.map((r) => r.error?.code)).toEqual(['record_refused']);
  });

  test('a stalled-out job: the kept answer is settled and the refusal stored, without throwing', async () => {
    const { deps, events, saved } = fakeDeps();
    await finishStalledOut(fakeJob(keptAnswer()), deps);
    expect(events.filter((e) => e.startsWith('settle'))).toHaveLength(1);
    expect(saved.map((r) => r.error?.code)).toEqual(['record_refused']);
  });

  test('a stalled-out job without an answer: its worker_lost record is refused, so the refusal is stored', async () => {
    const { deps, events, saved } = fakeDeps();
    await finishStalledOut(fakeJob(undefined), deps);
    expect(events.filter((e) => e.startsWith('settle'))).toEqual([]);
    expect(saved.map((r) => r.error?.code)).toEqual(['record_refused']);
  });
});
