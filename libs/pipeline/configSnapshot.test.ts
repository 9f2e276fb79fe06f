import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import { processLlmJob, type PipelineDeps } from './llmJob.ts';
import { FIXTURE_NOW, makeAnsweredJob } from '../../test/helpers/pipelineFixtures.ts';

// A config reload while a job runs applies from its next run on: one run reads the config once and
// never mixes the plan of one config with the budget or rate limits of another.
const before = loadConfig('config');

/** `before` with every figure the run reads after planning changed, as a reload would. */
function reloaded(): GatewayConfig {
  const cfg = structuredClone(before);
  cfg.rateLimits.budget.monthly_usd = 1;
  cfg.rateLimits.budget.reservation_ttl_ms = 1234;
  for (const limits of Object.values(cfg.rateLimits.providers)) limits.rpm = 1;
  return cfg;
}

function harness() {
  const reads: GatewayConfig[] = [];
  const after = reloaded();
  const reserved: Array<{ monthlyMicros: number; ttlMs: number }> = [];
  const rateLimits: Array<{ provider: string; rpm: number }> = [];
  const saved: JobRecord[] = [];
  const noop = () => {};
  const log = { error: noop, warn: noop, info: noop, debug: noop, child: () => log } as unknown as Logger;
  const job = Object.assign(makeAnsweredJob('snap-1', undefined), { timestamp: 1, stalledCounter: 0, updateData: async () => {} }) as unknown as Job<LlmJobData>;
  const deps = {
    // The first read sees the config the job started with; any later read would see the reload.
    config: () => {
      const cfg = reads.length === 0 ? before : after;
      reads.push(cfg);
      return cfg;
    },
    log,
    budget: {
      reserve: async (req: { holdId: string; limits: { monthlyMicros: number }; ttlMs: number }) => {
        reserved.push({ monthlyMicros: req.limits.monthlyMicros, ttlMs: req.ttlMs });
        return { ok: true, holdId: req.holdId, created: true, month: { spent: 0, reserved: 1 }, day: { spent: 0, reserved: 1 } };
      },
      settle: async () => ({ crossed: [] }),
    },
    breaker: { acquire: async () => ({ allowed: true, state: 'closed' }), record: async () => 'closed' },
    providers: { get: () => ({ name: 'fake', complete: async () => ({ text: 'a plan', model: 'gpt-4', inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, finishReason: 'stop' }) }) },
    rateLimiter: {
      acquireProvider: async (provider: string, limits: { rpm: number }) => {
        rateLimits.push({ provider, rpm: limits.rpm });
        return { ok: true };
      },
    },
    cache: { getOrCompute: async (_key: string, compute: () => Promise<unknown>) => ({ outcome: 'miss', value: await compute() }) },
    save: async (record: JobRecord) => void saved.push(record),
    now: () => FIXTURE_NOW,
    sleep: async () => {},
  } as unknown as PipelineDeps;
  return { job, deps, reads, reserved, rateLimits, saved };
}

describe('one config snapshot per run', () => {
  test('a reload mid-run is not seen: budget, hold TTL and rate limits all come from the config the run started with', async () => {
    const { job, deps, reads, reserved, rateLimits, saved } = harness();
    await expect(processLlmJob(job, 'token', deps)).resolves.toMatchObject({ status: 'completed' });
    expect(reads).toHaveLength(1);
    expect(reserved).toEqual([{ monthlyMicros: before.rateLimits.budget.monthly_usd * 1_000_000, ttlMs: expect.any(Number) }]);
    expect(reserved[0]!.ttlMs).not.toBe(1234);
    expect(rateLimits).toHaveLength(1);
    expect(rateLimits[0]!.rpm).toBe(before.rateLimits.providers[rateLimits[0]!.provider]!.rpm);
    expect(saved.map((r) => r.status)).toEqual(['completed']);
  });
});
