import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { userJobCalls, type SimulatorCalls } from '../helpers/gateway.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dbPath = join(tmpdir(), `e2e-${randomUUID()}.sqlite`);
let system: RunningSystem;
let client: GatewayClient;

beforeAll(async () => {
  system = await startSystem({ env: { DATABASE_URL: dbPath, LOG_LEVEL: 'warn' } });
  client = new GatewayClient(system.apiUrl, system.apiKey);
});

afterAll(async () => {
  await system?.stop();
  if (system) await obliterateQueues(REDIS_URL, system.queuePrefix);
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
});

interface FinishedJob {
  id: string;
  status: string;
  provider: string;
  model: string;
  experiment: { id: string; variant: string };
  prompt_version: string;
  result: { text: string };
  usage: { input_tokens: number; output_tokens: number };
  cost_usd: number;
  latency_ms: { queue: number; provider: number; total: number };
}

// Prices from config/provider_settings.json, in USD per million tokens.
const PRICES: Record<string, [number, number]> = { 'gpt-4': [30, 60], 'claude-3-5-sonnet-20241022': [3, 15] };

describe('a career-advice request travels end to end', () => {
  test('api, worker and simulator as processes: 40 jobs complete through the official SDKs', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => client.submit(careerSubmission(i))));
    const finished = await client.waitForAll(ids, { timeoutMs: 60_000 });
    const jobs = ids.map((id) => finished.get(id) as unknown as FinishedJob);

    for (const job of jobs) {
      expect(job.status).toBe('completed');
      expect(job.result.text).toMatch(/Current role|role|plan/i);
      expect(job.usage.input_tokens).toBeGreaterThan(50);
      expect(job.usage.output_tokens).toBeGreaterThan(50);
      expect(job.prompt_version).toBe('v1');
      expect(job.experiment.id).toBe('career_model_ab');
      const [inPrice, outPrice] = PRICES[job.model]!;
      expect(job.cost_usd).toBeCloseTo((job.usage.input_tokens * inPrice + job.usage.output_tokens * outPrice) / 1e6, 6);
      expect(job.latency_ms.total).toBeGreaterThanOrEqual(job.latency_ms.provider);
    }
    // The A/B split sends traffic to both providers.
    expect(new Set(jobs.map((j) => j.provider))).toEqual(new Set(['openai', 'anthropic']));

    // The simulator saw exactly one call per job, from the provider the job names (besides the
    // calls that write the generic answers of their categories).
    const calls = (await (await fetch(`${system.simulatorUrl}/admin/calls`)).json()) as SimulatorCalls;
    const own = userJobCalls(calls);
    expect(own.openai + own.anthropic).toBe(40);
    for (const job of jobs) expect(calls.by_job[job.id]).toMatchObject({ [job.provider]: 1 });
  });

  test('the same user always gets the same variant', async () => {
    const submission = careerSubmission(7);
    const ids = await Promise.all([1, 2, 3].map(() => client.submit(submission)));
    const finished = await client.waitForAll(ids, { timeoutMs: 30_000 });
    const variants = new Set([...finished.values()].map((j) => (j as unknown as FinishedJob).experiment.variant));
    expect(variants.size).toBe(1);
  });
});
