import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';
import { FIXTURE_NOW, makeAnsweredJob } from '../../test/helpers/pipelineFixtures.ts';

// After a paid answer: keeping it in the job overlaps the cache write, and settling and storing
// start only once it is kept (the crash argument is in obtainAnswer.ts, PaidAnswer).
const config = loadConfig('config');

function harness() {
  const events: string[] = [];
  let cacheWriting!: () => void;
  const cacheWriteStarted = new Promise<void>((resolve) => (cacheWriting = resolve));
  const noop = () => {};
  const log = { error: noop, warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const job = Object.assign(makeAnsweredJob('order-1', undefined), {
    timestamp: 1,
    stalledCounter: 0,
    updateData: async (data: LlmJobData) => {
      events.push('keep:start');
      // Held until the cache write has started (or 200 ms, when it waits for this write instead).
      await Promise.race([cacheWriteStarted, new Promise((r) => setTimeout(r, 200))]);
      events.push(data.answer ? 'keep:done' : 'keep:other');
    },
  }) as unknown as Job<LlmJobData>;
  const deps = {
    config: () => config,
    log,
    budget: {
      reserve: async (req: { holdId: string }) => ({ ok: true, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } }),
      settle: async () => (events.push('settle'), { crossed: [] }),
    },
    breaker: { acquire: async () => ({ allowed: true, state: 'closed' }), record: async () => 'closed' },
    providers: { get: () => ({ name: 'fake', complete: async () => ({ text: 'a plan', model: 'gpt-4', inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, finishReason: 'stop' }) }) },
    rateLimiter: { acquireProvider: async () => ({ ok: true }) },
    // As singleFlight's leader does: compute, then store and signal the value before resolving.
    cache: {
      getOrCompute: async (_key: string, compute: () => Promise<unknown>) => {
        const value = await compute();
        events.push('cache:start');
        cacheWriting();
        await new Promise((r) => setTimeout(r, 5));
        events.push('cache:done');
        return { outcome: 'miss', value, shared: false };
      },
    },
    save: async (record: JobRecord) => void events.push(`save:${record.status}`),
    now: () => FIXTURE_NOW,
    sleep: async () => {},
  } as unknown as PipelineDeps;
  return { job, deps, events };
}

describe('after a paid answer', () => {
  test('the cache write overlaps keeping the answer; settling and storing start only once it is kept', async () => {
    const { job, deps, events } = harness();
    await expect(processLlmJob(job, 'token', deps)).resolves.toMatchObject({ status: 'completed' });
    expect(events.indexOf('cache:start')).toBeGreaterThan(events.indexOf('keep:start'));
    expect(events.indexOf('cache:start')).toBeLessThan(events.indexOf('keep:done'));
    const kept = events.indexOf('keep:done');
    expect(events.indexOf('settle')).toBeGreaterThan(kept);
    expect(events.indexOf('save:completed')).toBeGreaterThan(kept);
    expect(events.filter((e) => e === 'settle' || e.startsWith('save'))).toHaveLength(2);
  });
});
