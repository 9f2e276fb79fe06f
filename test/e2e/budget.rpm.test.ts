import { afterEach, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { callTimestamps, finishedJobs, fullestWindow, payingConfig, submissionsFor, submitAll } from '../helpers/budget.ts';
import { SHIPPED_CONFIG_DIR } from '../../libs/config/tempConfig.ts';
import { workerMetricsUrls } from '../../libs/devkit/workerMetrics.ts';

/** The sum over every worker of the one series `series` (exact text-format name and labels). */
async function workersSum(g: TestGateway, series: string): Promise<number> {
  const texts = await Promise.all(workerMetricsUrls(g.system.processes).map(async (url) => (await fetch(url)).text()));
  return texts.reduce((sum, text) => sum + Number(text.split('\n').find((line) => line.startsWith(`${series} `))?.slice(series.length + 1) ?? 0), 0);
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const RPM = 600;
const WINDOW_MS = 60_000;
const JOBS = 700;

describe('provider rate limits across workers', () => {
  test('600 RPM for anthropic, 3 workers, 700 jobs: no 60 s window at the simulator sees more than 600 calls', async () => {
    gw = await startTestGateway({
      workers: 3,
      editConfig: (c) => {
        payingConfig(c, {});
        c.edit('rate_limits.json', (json) => {
          json.providers.anthropic = { rpm: RPM, tpm: 1_000_000_000 };
        });
      },
    });
    const started = Date.now();
    const { ids, refused } = await submitAll(gw.client, submissionsFor('claude', JOBS, SHIPPED_CONFIG_DIR), 50);
    expect(refused).toEqual([]);
    // The last 100 can only start once the first minute's calls leave the window: about 60 s.
    const jobs = await finishedJobs(gw.client, ids, 130_000);
    const elapsedMs = Date.now() - started;

    const times = await callTimestamps(gw.system.simulatorUrl);
    const anthropic = [...times.anthropic].sort((a, b) => a - b);
    const first = anthropic[0]!;
    const inFirstWindow = anthropic.filter((t) => t < first + WINDOW_MS).length;
    const fullest = fullestWindow(anthropic, WINDOW_MS);
    const secondWave = anthropic.filter((t) => t >= first + WINDOW_MS);
    console.log(
      JSON.stringify({
        calls: anthropic.length,
        openaiCalls: times.openai.length,
        inFirstWindow,
        fullestWindow: fullest.count,
        firstWaveSpreadMs: anthropic[RPM - 1]! - first,
        secondWaveStartsAfterFirstMs: secondWave.length ? secondWave[0]! - first : null,
        lastCallAfterFirstMs: anthropic.at(-1)! - first,
        elapsedMs,
      }),
    );

    expect(jobs.every((j) => j.status === 'completed' && j.provider === 'anthropic')).toBe(true);
    // Waiting in the queue for the limit costs no attempt (a delayed job used to come back with a spent budget hold).
    expect(jobs.filter((j) => j.attempts !== 1).map((j) => j.attempts)).toEqual([]);
    expect(anthropic).toHaveLength(JOBS); // one call per job: waiting for the limit never failed over or retried a call
    expect(times.openai).toHaveLength(0);
    expect(fullest.count).toBeLessThanOrEqual(RPM);
    expect(inFirstWindow).toBe(RPM);
    expect(secondWave).toHaveLength(JOBS - RPM);
    // The workers' metrics saw the limit hold calls back.
    expect(await workersSum(gw, 'gateway_rate_limit_waits_total{provider="anthropic"}')).toBeGreaterThan(0);
    expect(await workersSum(gw, 'gateway_rate_limit_wait_seconds_total{provider="anthropic"}')).toBeGreaterThan(0);
  }, 150_000);
});
