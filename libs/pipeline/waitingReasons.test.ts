import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';

// A job the pipeline delays records why, before it is delayed, so its status can say so.
const shipped = loadConfig('config');
const deferring: GatewayConfig = { ...shipped, rateLimits: { ...shipped.rateLimits, budget: { ...shipped.rateLimits.budget, on_exhausted: 'defer' } } };
const MONTH_ENDS = Date.parse('2099-01-01T00:00:00.000Z');

interface Recorded {
  waiting: Array<{ jobId: string; reason: string; untilMs: number; budgetDeferred: boolean }>;
  delayedTo: number[];
  order: string[];
}

function fakeJob(recorded: Recorded): Job<LlmJobData> {
  const data = {
    clientId: 'demo',
    feature: 'career_path_navigator',
    input: { current_role: 'Analyst', years_experience: 3, skills: ['sql'] },
    userId: 'u-1',
    createdAt: '2025-03-01T10:00:00.000Z',
  } as unknown as LlmJobData;
  return {
    id: 'job-1',
    data,
    timestamp: 1,
    attemptsMade: 0,
    attemptsStarted: 1,
    stalledCounter: 0,
    opts: { attempts: 3 },
    updateData: async () => {},
    moveToDelayed: async (at: number) => {
      recorded.delayedTo.push(at);
      recorded.order.push('delayed');
    },
  } as unknown as Job<LlmJobData>;
}

function fakeDeps(options: { config: GatewayConfig; budgetExhausted?: boolean; rateLimitWaitMs?: number; recordFails?: boolean }) {
  const recorded: Recorded = { waiting: [], delayedTo: [], order: [] };
  const noop = () => {};
  const log = { error: noop, warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const deps = {
    config: () => options.config,
    log,
    budget: {
      reserve: async (req: { holdId: string }) =>
        options.budgetExhausted
          ? { ok: false, window: 'month', availableMicros: 0, retryAtMs: MONTH_ENDS, exhausted: true, month: { spent: 10, reserved: 0 }, day: { spent: 10, reserved: 0 } }
          : { ok: true, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } },
      release: async () => ({ released: true }),
      settle: async () => ({ crossed: [] }),
    },
    breaker: { acquire: async () => ({ allowed: true, state: 'closed' }), record: async () => 'closed' },
    providers: { get: () => ({ name: 'fake', complete: async () => ({ text: 'a plan', model: 'gpt-4', inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, finishReason: 'stop' }) }) },
    rateLimiter: { acquireProvider: async () => (options.rateLimitWaitMs ? { ok: false, waitMs: options.rateLimitWaitMs } : { ok: true }) },
    cache: {
      getOrCompute: async (_key: string, compute: () => Promise<unknown>) => ({ outcome: 'miss', value: await compute() }),
      getFirst: async () => null,
    },
    save: async () => {},
    recordWaiting: async (jobId: string, w: { reason: string; untilMs: number; budgetDeferred: boolean }) => {
      recorded.order.push('recorded');
      if (options.recordFails) throw new Error('redis down');
      recorded.waiting.push({ jobId, ...w });
    },
    sleep: async () => {},
  } as unknown as PipelineDeps;
  return { deps, recorded };
}

describe('a delayed job records why it waits', () => {
  test('deferred by an exhausted budget: budget, until the window ends, and marked for promotion', async () => {
    const { deps, recorded } = fakeDeps({ config: deferring, budgetExhausted: true });
    await expect(processLlmJob(fakeJob(recorded), 'token', deps)).rejects.toBeInstanceOf(DelayedError);
    expect(recorded.waiting).toEqual([{ jobId: 'job-1', reason: 'budget', untilMs: MONTH_ENDS, budgetDeferred: true }]);
    expect(recorded.delayedTo).toEqual([MONTH_ENDS]);
    // Recorded first: a job is never delayed without its reason.
    expect(recorded.order).toEqual(['recorded', 'delayed']);
  });

  test("held back by a provider's rate limit: rate_limit, not for promotion", async () => {
    const before = Date.now();
    const { deps, recorded } = fakeDeps({ config: shipped, rateLimitWaitMs: 30_000 });
    await expect(processLlmJob(fakeJob(recorded), 'token', deps)).rejects.toBeInstanceOf(DelayedError);
    expect(recorded.waiting).toHaveLength(1);
    expect(recorded.waiting[0]).toMatchObject({ reason: 'rate_limit', budgetDeferred: false });
    expect(recorded.waiting[0]!.untilMs).toBeGreaterThanOrEqual(before + 30_000);
    expect(recorded.delayedTo).toEqual([recorded.waiting[0]!.untilMs]);
  });

  test('a record that fails does not keep the job from waiting', async () => {
    const { deps, recorded } = fakeDeps({ config: deferring, budgetExhausted: true, recordFails: true });
    await expect(processLlmJob(fakeJob(recorded), 'token', deps)).rejects.toBeInstanceOf(DelayedError);
    expect(recorded.delayedTo).toEqual([MONTH_ENDS]);
  });
});
