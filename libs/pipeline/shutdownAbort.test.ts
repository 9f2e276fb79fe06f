import { WaitingError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import type { CompletionRequest } from '../providers/types.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';
import { FIXTURE_NOW, makeAnsweredJob, makeKeptAnswer } from '../../test/helpers/pipelineFixtures.ts';

// A worker shutting down aborts its jobs' signals: a job without an answer goes back to the queue
// at once, its hold charged if a call was out (the provider may bill it) and released otherwise;
// an answer already kept is never lost.
const config = loadConfig('config');

/** What a run did: budget steps, queue moves, data kept, records stored, provider calls. */
interface Trace {
  budget: string[];
  moves: string[];
  kept: Partial<LlmJobData>[];
  saved: JobRecord[];
  calls: number;
}

function harness(options: { rateLimited?: boolean; answer?: KeptAnswer } = {}) {
  const trace: Trace = { budget: [], moves: [], kept: [], saved: [], calls: 0 };
  let callOut!: () => void;
  const callStarted = new Promise<void>((resolve) => (callOut = resolve));
  let waitStarted!: () => void;
  const rateWaitStarted = new Promise<void>((resolve) => (waitStarted = resolve));
  const job = Object.assign(makeAnsweredJob('job-1', options.answer), {
    timestamp: 1,
    stalledCounter: 0,
    updateData: async (data: LlmJobData) => void trace.kept.push(data),
    moveToWait: async (token: string) => void trace.moves.push(`wait:${token}`),
    moveToDelayed: async () => void trace.moves.push('delayed'),
  }) as unknown as Job<LlmJobData>;
  const noop = () => {};
  const log = { error: noop, warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const step = (name: string, result: unknown) => async () => (trace.budget.push(name), result);
  const deps = {
    config: () => config,
    log,
    budget: {
      reserve: async (req: { holdId: string }) => (trace.budget.push('reserve'), { ok: true, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } }),
      release: step('release', true),
      charge: step('charge', { micros: 90_000, crossed: [] }),
      settle: step('settle', { crossed: [] }),
    },
    breaker: { acquire: async () => ({ allowed: true, state: 'closed' }), record: async () => 'closed' },
    // The provider answers only when its request is aborted (a 12 s call cut short).
    providers: {
      get: () => ({
        name: 'fake',
        complete: (req: CompletionRequest) =>
          new Promise((_, reject) => {
            trace.calls++;
            req.signal!.addEventListener('abort', () => reject(new Error('request aborted')));
            callOut();
          }),
      }),
    },
    rateLimiter: { acquireProvider: async () => (options.rateLimited ? { ok: false, waitMs: 1000 } : { ok: true }) },
    cache: {
      getOrCompute: async (_key: string, compute: () => Promise<unknown>) => ({ outcome: 'miss', value: await compute() }),
      getFirst: async () => null,
    },
    save: async (record: JobRecord) => void trace.saved.push(record),
    now: () => FIXTURE_NOW,
    // A rate-limit wait that outlasts the grace.
    sleep: () => (waitStarted(), new Promise<void>(() => {})),
  } as unknown as PipelineDeps;
  return { job, deps, trace, callStarted, rateWaitStarted };
}

describe('a job whose worker shuts down', () => {
  // The rerun of a job whose call was out knows it may have been paid for: a budget refusal then
  // fails it, never rejects it (paidMicros).
  test.each([
    ['its provider call is out: the request is aborted, the hold charged', { rateLimited: false }, { budget: ['reserve', 'charge'], calls: 1, paid: [true] }],
    ['waiting for a provider rate limit: no call was out, the hold is released', { rateLimited: true }, { budget: ['reserve', 'release'], calls: 0, paid: [] }],
  ])('aborted while %s; the job is back in the queue', async (_name, options, expected) => {
    const { job, deps, trace, callStarted, rateWaitStarted } = harness(options);
    const ctrl = new AbortController();
    const run = processLlmJob(job, 'token-1', deps, ctrl.signal);
    await (options.rateLimited ? rateWaitStarted : callStarted);
    ctrl.abort('worker shutting down');
    await expect(run).rejects.toBeInstanceOf(WaitingError);
    expect({ budget: trace.budget, calls: trace.calls, paid: trace.kept.map((d) => d.paidMicros! > 0) }).toEqual(expected);
    expect(trace.moves).toEqual(['wait:token-1']);
    expect(trace.saved).toEqual([]);
  });

  test('aborted before it started: nothing reserved, nothing called, back in the queue', async () => {
    const { job, deps, trace } = harness();
    await expect(processLlmJob(job, 'token-1', deps, AbortSignal.abort('worker shutting down'))).rejects.toBeInstanceOf(WaitingError);
    expect(trace.budget).toEqual([]);
    expect(trace.calls).toBe(0);
    expect(trace.moves).toEqual(['wait:token-1']);
  });

  test('an answer already kept in the job is settled and stored, whatever the signal says', async () => {
    const { job, deps, trace } = harness({ answer: makeKeptAnswer() });
    await expect(processLlmJob(job, 'token-1', deps, AbortSignal.abort('worker shutting down'))).resolves.toEqual({ status: 'completed', costMicros: 12_345 });
    expect(trace.budget).toEqual(['settle']);
    expect(trace.saved.map((r) => [r.status, r.result?.text])).toEqual([['completed', 'a paid plan']]);
    expect(trace.moves).toEqual([]);
    expect(trace.calls).toBe(0);
  });
});
