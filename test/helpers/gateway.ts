import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSystem, type RunningSystem, type SystemOptions } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { readRedisTarget } from '../../libs/config/env.ts';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { tempConfig, type TempConfig } from '../../libs/config/tempConfig.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { planJob } from '../../libs/pipeline/llmJob.ts';
import type { LlmJobData } from '../../libs/queue/jobs.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import type { CallsReceived, ReceivedCall } from '../../apps/simulator/received.ts';
import type { BatchCallCounts } from '../../apps/simulator/batchCounters.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A system under test with its own config copy, SQLite file and queue prefix. */
export interface TestGateway {
  system: RunningSystem;
  client: GatewayClient;
  config: TempConfig;
  simulator: SimulatorAdmin;
  stop(): Promise<void>;
}

/** Starts api, worker(s) and simulator on a temp copy of config/ changed by `edit`. */
export async function startTestGateway(options: SystemOptions & { editConfig?: (config: TempConfig) => void } = {}): Promise<TestGateway> {
  const config = tempConfig();
  options.editConfig?.(config);
  const dbPath = join(tmpdir(), `gw-test-${randomUUID()}.sqlite`);
  const system = await startSystem({ ...options, env: { DATABASE_URL: dbPath, CONFIG_DIR: config.dir, LOG_LEVEL: 'warn', ...options.env } });
  return {
    system,
    client: new GatewayClient(system.apiUrl, system.apiKey),
    config,
    simulator: new SimulatorAdmin(system.simulatorUrl),
    async stop() {
      await system.stop();
      // The Redis the system ran on: REDIS_URL, or the cluster its env named.
      await obliterateQueues(readRedisTarget({ REDIS_URL, ...system.env }), system.queuePrefix);
      config.cleanup();
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    },
  };
}

/** Calls counted by the simulator. */
export interface SimulatorCalls {
  total: { openai: number; anthropic: number };
  aborted: { openai: number; anthropic: number };
  /** Requests the simulator is answering right now. */
  in_flight: { openai: number; anthropic: number };
  by_job: Record<string, { openai?: number; anthropic?: number }>;
}

/** Whether a job id the simulator counted is a category job's (the generic answer of a category). */
export const isCategoryJobId = (id: string): boolean => id.startsWith('category-');

/** Calls made for users' own jobs: the totals less the calls of category jobs. */
export function userJobCalls(calls: SimulatorCalls): { openai: number; anthropic: number } {
  const total = { ...calls.total };
  for (const [id, perProvider] of Object.entries(calls.by_job)) {
    if (!isCategoryJobId(id)) continue;
    total.openai -= perProvider.openai ?? 0;
    total.anthropic -= perProvider.anthropic ?? 0;
  }
  return total;
}

/** The simulator's admin endpoints. */
export class SimulatorAdmin {
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  async setKnobs(knobs: unknown): Promise<void> {
    const response = await fetch(`${this.url}/admin/knobs`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(knobs) });
    if (!response.ok) throw new Error(`knobs refused: ${await response.text()}`);
  }
  async calls(): Promise<SimulatorCalls> {
    return (await (await fetch(`${this.url}/admin/calls`)).json()) as SimulatorCalls;
  }
  /** Batch API counts (GET /admin/calls/batch): batches and items per provider, submissions per custom_id. */
  async batchCalls(): Promise<BatchCallCounts> {
    return (await (await fetch(`${this.url}/admin/calls/batch`)).json()) as BatchCallCounts;
  }
  /** Generation parameters of the last calls, as each provider received them (GET /admin/calls/received). */
  async received(): Promise<ReceivedCall[]> {
    return ((await (await fetch(`${this.url}/admin/calls/received`)).json()) as CallsReceived).calls;
  }
  async reset(): Promise<void> {
    await fetch(`${this.url}/admin/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  }
}

/** A career-path submission (request number `i`) from a user the experiment assigns to `variant`. */
export function submissionFor(variant: string, i: number, configDir = 'config'): Record<string, unknown> {
  const cfg = loadConfig(configDir);
  const base = careerSubmission(i);
  for (let n = 0; n < 10_000; n++) {
    const userId = `u-${variant}-${i}-${n}`;
    const data = { feature: base.feature, input: base.input, userId } as unknown as LlmJobData;
    if (planJob(cfg, 'probe', 1, data)?.variant.name === variant) return { ...base, user_id: userId };
  }
  throw new Error(`no user found for variant ${variant}`);
}

/** Polls `check` until it answers true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Environment that makes a worker SIGKILL itself right after keeping its first paid answer (see crashAfterAnswerKept.ts). */
export const CRASH_AFTER_ANSWER_KEPT_ENV: NodeJS.ProcessEnv = {
  NODE_OPTIONS: `--import ${fileURLToPath(new URL('./crashAfterAnswerKept.ts', import.meta.url))}`,
};
/** Environment that undoes CRASH_AFTER_ANSWER_KEPT_ENV for a replacement worker. */
export const NO_CRASH_ENV: NodeJS.ProcessEnv = { NODE_OPTIONS: '' };

/**
 * A batch lane that sends a line after 200 ms and ticks every 200 ms (the shipped one waits up to
 * a minute to fill a batch): for tests that wait on the generic category answers, which ride it.
 */
export function fastBatchLane(config: TempConfig): void {
  config.edit('provider_settings.json', (p) => (p['batch'] = { ...p['batch'], enabled: true, max_age_ms: 200, poll_interval_ms: 200 }));
}
