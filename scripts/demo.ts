// `npm run demo`: start the whole system, submit career-path requests as the Rails app would,
// wait for the answers by polling, print what they cost, and have each simulated user rate its
// answer (simulated ratings, for the A/B report). Options: --jobs N (default 200); --batch-share F
// (0-1, default 0): that share of the requests can wait an hour (`deadline_s: 3600`) and ride the
// batch lane, and the demo shows their cost beside what the same requests cost in realtime. The
// results stay in ./data/demo.sqlite (or DATABASE_URL) for `npm run report`; the next run starts afresh.
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { exitUnlessRedis } from '../libs/redis/connection.ts';
import { startSystem } from '../libs/devkit/system.ts';
import { GatewayClient } from '../libs/client/gatewayClient.ts';
import { careerSubmission } from './demo/profiles.ts';
import { formatSummary, summarise } from './demo/summary.ts';
import { rateAnswers } from './demo/rate.ts';
import { obliterateQueues } from '../libs/devkit/cleanup.ts';
import { tempConfig } from '../libs/config/tempConfig.ts';
import { loadConfig } from '../libs/config/load.ts';
import { formatLaneCosts, laneCosts } from './demo/lanes.ts';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: process.env.DEMO_JOBS ?? '200' }, concurrency: { type: 'string', default: '20' }, 'batch-share': { type: 'string', default: '0' } },
});
const batchShare = Number(values['batch-share']);
if (!(batchShare >= 0 && batchShare <= 1)) {
  console.error(`--batch-share must be a number from 0 to 1, not "${values['batch-share']}"`);
  process.exit(2);
}
const total = Number(values.jobs);
if (!Number.isInteger(total) || total < 1) {
  console.error(`--jobs must be a positive whole number, not "${values.jobs}"`);
  process.exit(2);
}
const redis = await exitUnlessRedis();

const DEMO_DATABASE_PATH = './data/demo.sqlite';
const databasePath = process.env.DATABASE_URL ?? DEMO_DATABASE_PATH;
// The previous run's results go now, not at its end, so that `npm run report` can read the last run.
if (!process.env.DATABASE_URL) for (const suffix of ['', '-wal', '-shm']) rmSync(`${DEMO_DATABASE_PATH}${suffix}`, { force: true });
// The demo's batches leave after 2 s and are polled twice a second (the shipped lane waits up to a
// minute to fill a batch); the simulator answers a batch in about 3 s.
const config = tempConfig();
config.edit('provider_settings.json', (p) => (p['batch'] = { ...p['batch'], enabled: true, max_age_ms: 2000, poll_interval_ms: 500 }));
console.log(`Starting simulator, worker and API (results in ${databasePath}) ...`);
const system = await startSystem({
  env: { DATABASE_URL: databasePath, LOG_LEVEL: 'warn', CONFIG_DIR: config.dir },
  // A realistic provider: most answers in under a second, a slow tail.
  simulatorKnobs: {
    openai: { latency: { kind: 'lognormal', p50_ms: 450, p95_ms: 1400 }, batch: { completion_delay_ms: 3000 } },
    anthropic: { latency: { kind: 'lognormal', p50_ms: 350, p95_ms: 1100 }, batch: { completion_delay_ms: 3000 } },
  },
});
let exitCode = 0;
try {
  const client = new GatewayClient(system.apiUrl, system.apiKey);
  const progress = progressBar(total);
  const ids: string[] = [];
  let next = 0;
  const submitOne = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      // Every 1/share-th request can wait an hour: spread evenly, the same requests every run.
      const canWait = Math.floor((i + 1) * batchShare) > Math.floor(i * batchShare);
      ids.push(await client.submit({ ...careerSubmission(i), ...(canWait ? { deadline_s: 3600 } : {}) }));
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: Number(values.concurrency) }, submitOne));
  const finished = await client.waitForAll(ids, { timeoutMs: 300_000, onProgress: progress });
  progress(finished.size, true);
  const jobs = [...finished.values()];
  const completed = jobs.filter((j) => j.status === 'completed').length;
  console.log(`\n${completed} of ${total} jobs completed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(formatSummary(summarise(jobs)));
  if (batchShare > 0) console.log(`\n${formatLaneCosts(laneCosts(jobs, loadConfig(config.dir), new Date()))}`);
  const sample = jobs.find((j) => j.status === 'completed') as { id: string; provider: string; model: string; result: { text: string } } | undefined;
  if (sample) console.log(`\nSample answer (job ${sample.id}, ${sample.provider} / ${sample.model}):\n\n${sample.result.text}\n`);
  const rated = await rateAnswers(client, jobs);
  console.log(`${rated} completed answers rated by their simulated users (1-5 stars). The ratings are SIMULATED: drawn at random, with a mean set per variant and sector in scripts/demo/ratings.ts; they measure neither model.`);
  console.log(`\nResults kept in ${databasePath}. See the A/B report: npm run report -- career_model_ab`);
  if (completed !== total) exitCode = 1;
} catch (e) {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 1;
} finally {
  await system.stop();
  await obliterateQueues(redis, system.queuePrefix);
  config.cleanup();
}
process.exit(exitCode);

/** A one-line progress bar on a terminal; a line per 10% elsewhere. */
function progressBar(of: number): (done: number, final?: boolean) => void {
  let lastTenth = -1;
  return (done, final = false) => {
    const ratio = done / of;
    if (process.stdout.isTTY) {
      const width = 40;
      const filled = Math.round(ratio * width);
      process.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${of}${final ? '\n' : ''}`);
    } else if (Math.floor(ratio * 10) > lastTenth) {
      lastTenth = Math.floor(ratio * 10);
      console.log(`progress: ${done}/${of}`);
    }
  };
}
