/**
 * Helpers for the budget and rate-limit end-to-end proofs: a direct view of the budget in Redis,
 * a sampler of spent + reserved, bounded-concurrency submission, worst-case arithmetic against a
 * test's config, and the simulator's call arrival times.
 */
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { createRedis } from '../../libs/redis/connection.ts';
import { BudgetStore, type BudgetSnapshot } from '../../libs/budget/budgetStore.ts';
import { estimatePromptTokens } from '../../libs/budget/reservation.ts';
import { LLM_QUEUE, queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { planJob } from '../../libs/pipeline/llmJob.ts';
import { allCandidates, candidateWorstCase, chainWorstCase, failoverChain } from '../../libs/pipeline/route.ts';
import type { TempConfig } from '../../libs/config/tempConfig.ts';
import type { GatewayClient } from '../../libs/client/gatewayClient.ts';
import type { TestGateway } from './gateway.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The job fields these tests read. */
export interface BudgetJob {
  id: string;
  status: string;
  provider: string | null;
  model: string | null;
  cost_usd: number | null;
  error: { code: string; message: string } | null;
  experiment: { id: string; variant: string } | null;
  /** Queue attempts used; a wait for a rate limit or the budget uses none. */
  attempts: number;
}

/** The budget of a running test gateway, read straight from Redis, plus its BullMQ queue. */
export interface BudgetProbe {
  redis: Redis;
  store: BudgetStore;
  /** The braced prefix, e.g. '{gw-1234abcd}'. */
  prefix: string;
  queue: Queue<LlmJobData>;
  close(): Promise<void>;
}

/**
 * Opens a BudgetStore and a Queue on the gateway's own prefix (close it before gw.stop()), on the
 * gateway's own Redis (its REDIS_URL, e.g. a private server) or else the shared one.
 */
export function budgetProbe(gw: TestGateway): BudgetProbe {
  const redis = createRedis(gw.system.env.REDIS_URL ?? REDIS_URL, 'budget-test');
  const prefix = queuePrefix(gw.system.queuePrefix);
  const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection: redis, prefix });
  return {
    redis,
    store: new BudgetStore(redis, prefix),
    prefix,
    queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** What a BudgetSampler saw. */
export interface SampleSummary {
  samples: number;
  /** Largest spent + reserved seen in the month window, micro-dollars. */
  maxMonthCommitted: number;
  /** Largest reserved seen in the month window, micro-dollars. */
  maxMonthReserved: number;
  /** Largest number of open holds seen. */
  maxHolds: number;
  /** Samples where spent + reserved was above `limitMicros` (at most the first 10 kept). */
  violations: BudgetSnapshot[];
  violationCount: number;
}

/** Samples the budget every `everyMs` until stopped; each sample is one MULTI, a consistent moment. */
export function sampleBudget(store: BudgetStore, limitMicros: number, everyMs = 20): { stop(): Promise<SampleSummary> } {
  const summary: SampleSummary = { samples: 0, maxMonthCommitted: 0, maxMonthReserved: 0, maxHolds: 0, violations: [], violationCount: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const s = await store.snapshot();
      summary.samples++;
      const committed = s.month.spent + s.month.reserved;
      summary.maxMonthCommitted = Math.max(summary.maxMonthCommitted, committed);
      summary.maxMonthReserved = Math.max(summary.maxMonthReserved, s.month.reserved);
      summary.maxHolds = Math.max(summary.maxHolds, s.holds);
      if (committed > limitMicros || s.day.spent + s.day.reserved > limitMicros) {
        summary.violationCount++;
        if (summary.violations.length < 10) summary.violations.push(s);
      }
      // Keep a steady cadence: the snapshot's own round trip counts toward the interval.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - at))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return summary;
    },
  };
}

/** Outcome of submitting many jobs: accepted ids, and submissions the API refused (status and code). */
export interface Submitted {
  ids: string[];
  refused: Array<{ index: number; status: number; code: string | undefined }>;
}

/**
 * Submits every submission with at most `inFlight` requests open at once; keeps the order of `ids`
 * by index. `headersFor` adds headers to submission `i` (e.g. an Idempotency-Key).
 */
export async function submitAll(client: GatewayClient, submissions: unknown[], inFlight = 50, headersFor?: (index: number) => Record<string, string>): Promise<Submitted> {
  const ids: Array<string | undefined> = new Array(submissions.length);
  const refused: Submitted['refused'] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < submissions.length; i = next++) {
      const answer = await client.request<{ id?: string; error?: { code: string } }>('POST', '/v1/jobs', submissions[i], headersFor?.(i));
      if (answer.status === 202 && answer.body.id) ids[i] = answer.body.id;
      else refused.push({ index: i, status: answer.status, code: answer.body.error?.code });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { ids: ids.filter((id): id is string => id !== undefined), refused };
}

/** Polls every id until it is finished; answers the jobs in the order of `ids`. */
export async function finishedJobs(client: GatewayClient, ids: string[], timeoutMs = 120_000): Promise<BudgetJob[]> {
  const done = await client.waitForAll(ids, { timeoutMs, concurrency: 100 });
  return ids.map((id) => done.get(id) as unknown as BudgetJob);
}

/** Provider limits high enough never to delay a test's jobs (the shipped 300k TPM admits only ~300 jobs a minute). */
export const UNLIMITED_PROVIDER = { rpm: 1_000_000, tpm: 1_000_000_000 };

/**
 * Config edits every budget test wants: `budget` merged into rate_limits.json's budget, no
 * response cache (every job pays), and neither client nor provider rate limits in the way.
 */
export function payingConfig(config: TempConfig, budget: Record<string, unknown>): void {
  config.edit('features/career_path_navigator.json', (json) => {
    json.cache.enabled = false;
  });
  config.edit('rate_limits.json', (json) => {
    Object.assign(json.budget, budget);
    json.clients.default.rpm = 1_000_000;
    json.providers.openai = { ...UNLIMITED_PROVIDER };
    json.providers.anthropic = { ...UNLIMITED_PROVIDER };
  });
}

/** Worst-case reservations of one submission under a config: its own chain, and each single model. */
export interface WorstCases {
  variant: string;
  inputTokens: number;
  /** What the pipeline reserves first: the largest worst case over the variant's failover chain. */
  chainMicros: number;
  /** Each provider/model alone, micro-dollars. */
  byModel: Array<{ provider: string; model: string; micros: number }>;
}

/** The worst cases the pipeline computes for `submission` against the config in `configDir`. */
export function worstCasesFor(configDir: string, submission: Record<string, unknown>, at = new Date()): WorstCases {
  const cfg = loadConfig(configDir);
  const data = { feature: submission.feature, input: submission.input, userId: submission.user_id ?? null } as unknown as LlmJobData;
  const plan = planJob(cfg, 'probe', 1, data);
  if (!plan) throw new Error('the submission names no configured feature');
  const inputTokens = estimatePromptTokens([plan.system, plan.user]);
  const maxOut = plan.feature.output.max_output_tokens;
  const chain = failoverChain(cfg, plan.experiment, plan.variant);
  return {
    variant: plan.variant.name,
    inputTokens,
    chainMicros: chainWorstCase(chain, inputTokens, maxOut, at),
    byModel: allCandidates(cfg).map((c) => ({ provider: c.provider, model: c.model, micros: candidateWorstCase(c, inputTokens, maxOut, at) })),
  };
}

/**
 * `count` career-path submissions (request numbers `from`..), each from a distinct user the
 * experiment assigns to `variant` (as submissionFor does, with the config loaded once).
 */
export function submissionsFor(variant: string, count: number, configDir: string, from = 0): Array<Record<string, unknown>> {
  const cfg = loadConfig(configDir);
  const out: Array<Record<string, unknown>> = [];
  for (let i = from; out.length < count; i++) {
    const base = careerSubmission(i);
    for (let n = 0; n < 1000; n++) {
      const userId = `u-${variant}-${i}-${n}`;
      const data = { feature: base.feature, input: base.input, userId } as unknown as LlmJobData;
      if (planJob(cfg, 'probe', 1, data)?.variant.name === variant) {
        out.push({ ...base, user_id: userId });
        break;
      }
    }
  }
  return out;
}

/** Arrival times (epoch ms, oldest first) of provider calls at the simulator. */
export async function callTimestamps(simulatorUrl: string): Promise<{ openai: number[]; anthropic: number[] }> {
  const response = await fetch(`${simulatorUrl}/admin/calls/timestamps`);
  if (!response.ok) throw new Error(`timestamps answered ${response.status}`);
  return ((await response.json()) as { timestamps: { openai: number[]; anthropic: number[] } }).timestamps;
}

/**
 * The most calls any window [t, t + windowMs) holds, and where the fullest window starts.
 * `times` must be sorted ascending.
 */
export function fullestWindow(times: readonly number[], windowMs: number): { count: number; startsAt: number | null } {
  let best = 0;
  let startsAt: number | null = null;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + windowMs) j++;
    if (j - i > best) {
      best = j - i;
      startsAt = times[i]!;
    }
  }
  return { count: best, startsAt };
}

/** Micro-dollars of a stored job's cost_usd (an exact integer when the store keeps micros / 1e6). */
export function costMicrosOf(job: BudgetJob): number {
  return Math.round((job.cost_usd ?? 0) * 1_000_000);
}
