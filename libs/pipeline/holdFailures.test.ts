import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';

// A budget hold that cannot be finished must never hide the run's own error: the fallbacks that
// depend on it still run, and the hold's failure is logged.
const config = loadConfig('config');
const NOW = new Date('2025-03-01T10:00:05.000Z');

function fakeJob(updateFails: boolean, more: { stalledCounter?: number; paidMicros?: number } = {}): Job<LlmJobData> {
  const data: LlmJobData = {
    clientId: 'demo',
    feature: 'career_path_navigator',
    input: { current_role: 'Analyst', years_experience: 3, target_roles: ['Data Scientist'], skills: ['sql'], education: { degree: 'BSc', field: 'Maths' } },
    userId: 'u-1',
    createdAt: '2025-03-01T10:00:00.000Z',
    ...(more.paidMicros ? { paidMicros: more.paidMicros } : {}),
  } as unknown as LlmJobData;
  return {
    id: 'job-1',
    data,
    timestamp: 1,
    attemptsMade: 0,
    attemptsStarted: 1,
    stalledCounter: more.stalledCounter ?? 0,
    processedOn: Date.parse('2025-03-01T10:00:01.000Z'),
    opts: { attempts: 3 },
    updateData: async () => {
      if (updateFails) throw new Error('job data not kept');
    },
    moveToDelayed: async () => {},
  } as unknown as Job<LlmJobData>;
}

function fakeDeps(options: { providersDown: boolean; budgetExhausted?: boolean }) {
  const budgetCalls: string[] = [];
  const saved: JobRecord[] = [];
  const errors: string[] = [];
  const noop = () => {};
  const log = { error: (_o: unknown, msg: string) => errors.push(msg), warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const redisDown = async (name: string) => {
    budgetCalls.push(name);
    throw new Error('redis down');
  };
  const cached = { text: 'an older plan', provider: 'openai', model: 'gpt-4', variant: 'gpt4', promptVersion: 'v1', inputTokens: 1, outputTokens: 1, createdAt: NOW.toISOString() };
  const deps = {
    config: () => config,
    log,
    budget: {
      reserve: async (req: { holdId: string }) =>
        options.budgetExhausted
          ? { ok: false, window: 'month', availableMicros: 0, retryAtMs: Date.now() + 60_000, exhausted: true, month: { spent: 10, reserved: 0 }, day: { spent: 10, reserved: 0 } }
          : { ok: true, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } },
      release: () => redisDown('release'),
      settle: () => redisDown('settle'),
    },
    // Every breaker open: the chain fails over to nothing (providers down), without a call.
    breaker: {
      acquire: async () => (options.providersDown ? { allowed: false, state: 'open', retryAtMs: Date.now() + 60_000 } : { allowed: true, state: 'closed' }),
      record: async () => 'closed',
    },
    providers: { get: () => ({ name: 'fake', complete: async () => ({ text: 'a plan', model: 'gpt-4', inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, finishReason: 'stop' }) }) },
    rateLimiter: { acquireProvider: async () => ({ ok: true }) },
    cache: {
      getOrCompute: async (_key: string, compute: () => Promise<unknown>) => ({ outcome: 'miss', value: await compute() }),
      getFirst: async (keys: string[]) => ({ entry: cached, stale: true, key: keys[0] }),
    },
    save: async (record: JobRecord) => void saved.push(record),
    now: () => NOW,
    sleep: async () => {},
  } as unknown as PipelineDeps;
  return { deps, budgetCalls, saved, errors };
}

describe('a budget hold that cannot be finished', () => {
  test('providers down and the release failing: the stale cached answer still serves the job', async () => {
    const { deps, budgetCalls, saved, errors } = fakeDeps({ providersDown: true });
    await expect(processLlmJob(fakeJob(false), 'token', deps)).resolves.toMatchObject({ status: 'completed', costMicros: 0 });
    expect(saved.map((r) => r.served_by)).toEqual(['stale_cache']);
    // Tried again, then logged, not swallowed.
    expect(budgetCalls).toEqual(['release', 'release', 'release', 'release']);
    expect(errors).toContain('could not finish the budget hold of a failed run; the reaper will charge it');
  });

  test('the answer not kept and its settle failing: the run fails with its own error, the settle failure logged', async () => {
    const { deps, budgetCalls, saved, errors } = fakeDeps({ providersDown: false });
    await expect(processLlmJob(fakeJob(true), 'token', deps)).rejects.toThrow('job data not kept');
    expect(budgetCalls).toEqual(['settle', 'settle', 'settle', 'settle']);
    expect(errors).toContain('could not finish the budget hold of a failed run; the reaper will charge it');
    expect(saved).toEqual([]);
  });
});

describe('a job the budget refuses (on_exhausted: reject)', () => {
  test('nothing paid before: stored as rejected with budget_exhausted', async () => {
    const { deps, saved } = fakeDeps({ providersDown: false, budgetExhausted: true });
    await expect(processLlmJob(fakeJob(false), 'token', deps)).resolves.toMatchObject({ status: 'rejected' });
    expect(saved.map((r) => [r.status, r.error?.code])).toEqual([['rejected', 'budget_exhausted']]);
  });

  test.each([
    ['an earlier run died mid-flight (its hold was charged)', { stalledCounter: 1 }],
    ['an earlier run paid for unusable answers', { paidMicros: 4_000 }],
  ])('%s: stored as failed, never rejected', async (_name, more) => {
    const { deps, saved } = fakeDeps({ providersDown: false, budgetExhausted: true });
    await expect(processLlmJob(fakeJob(false, more), 'token', deps)).rejects.toThrow(/^budget_exhausted/);
    expect(saved.map((r) => [r.status, r.error?.code])).toEqual([['failed', 'budget_exhausted']]);
  });
});
