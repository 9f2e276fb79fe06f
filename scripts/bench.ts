// `npm run bench`: measures the gateway against the performance targets of the README (Benchmarks), each figure
// beside a baseline measured in the same run, and prints one table with PASS/FAIL per target.
// Targets are reported, not enforced: the exit code is 0 unless the bench itself fails.
// The figures are also written, for machines, to bench/results.json (see results.ts).
// The default run takes about 3 minutes on a 2-core machine (each section prints its duration);
// it must stay under 6, so a new section comes with trimmed defaults elsewhere if need be.
// Options: --only budget,intake,e2e,latency,memory,report,soak (default: all but soak)
//          --jobs N (e2e, default 10000)   --workers N (default 1)
//          --report (the report section alone, as --only report)   --report-jobs N (300000)
//          --soak (the soak section alone, as --only soak)   --soak-minutes M (10)
//          --worker-concurrency N (e2e, 200)   --connections N (64)   --rate N (budget, 1000/s)
//          --budget-seconds S (5)   --warmup S (intake, 5)   --measure S (intake, 10)
// The latency, memory and soak sections run the worker at the product's default concurrency
// (memory: 2000) whatever --worker-concurrency says.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { createRedis, exitUnlessRedis } from '../libs/redis/connection.ts';
import { localRedisPid } from './bench/cpu.ts';
import { cleanupAll, cleanupOnSignals } from './bench/cleanup.ts';
import { formatTable, type Row } from './bench/stats.ts';
import { runBudget } from './bench/budget.ts';
import { runIntake } from './bench/intake.ts';
import { runE2e } from './bench/e2e.ts';
import { runLatency } from './bench/latency.ts';
import { runInflight } from './bench/inflight.ts';
import { runSoak } from './bench/soak.ts';
import { runReport } from './bench/report.ts';
import { writeResults } from './bench/results.ts';

const SECTIONS = ['budget', 'intake', 'e2e', 'latency', 'memory', 'report', 'soak'] as const;
// Ten minutes long: run on request only.
const DEFAULT_SECTIONS = SECTIONS.filter((s) => s !== 'soak');
const RESULTS_PATH = fileURLToPath(new URL('../bench/results.json', import.meta.url));
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string', default: '10000' },
    workers: { type: 'string', default: '1' },
    'worker-concurrency': { type: 'string', default: '200' },
    connections: { type: 'string', default: '64' },
    rate: { type: 'string', default: '1000' },
    'budget-seconds': { type: 'string', default: '5' },
    warmup: { type: 'string', default: '5' },
    measure: { type: 'string', default: '10' },
    report: { type: 'boolean', default: false },
    'report-jobs': { type: 'string', default: '300000' },
    soak: { type: 'boolean', default: false },
    'soak-minutes': { type: 'string', default: '10' },
  },
});

function positive(name: string, raw: string | undefined, integer = true): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not "${raw}"`);
    process.exit(2);
  }
  return n;
}
const only = (values.only ?? (values.report ? 'report' : values.soak ? 'soak' : DEFAULT_SECTIONS.join(','))).split(',').map((s) => s.trim()).filter(Boolean);
for (const s of only) {
  if (!SECTIONS.includes(s as Section)) {
    console.error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}; "${s}" is none of them`);
    process.exit(2);
  }
}
const opts = {
  jobs: positive('jobs', values.jobs),
  workers: positive('workers', values.workers),
  workerConcurrency: positive('worker-concurrency', values['worker-concurrency']),
  connections: positive('connections', values.connections),
  rate: positive('rate', values.rate),
  budgetMs: positive('budget-seconds', values['budget-seconds'], false) * 1000,
  warmupMs: Number(values.warmup) * 1000,
  measureMs: positive('measure', values.measure, false) * 1000,
  reportJobs: positive('report-jobs', values['report-jobs']),
  soakMinutes: positive('soak-minutes', values['soak-minutes'], false),
};
if (!Number.isFinite(opts.warmupMs) || opts.warmupMs < 0) {
  console.error(`--warmup must be a number of seconds >= 0, not "${values.warmup}"`);
  process.exit(2);
}

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
await exitUnlessRedis(redisUrl);

const probe = createRedis(redisUrl, 'bench-probe');
const redisPid = await localRedisPid(probe, redisUrl).catch(() => undefined);
probe.disconnect();

cleanupOnSignals("the bench's processes and removing its keys");

const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
console.log(`llm-gateway bench: node ${process.version}, ${cpus().length} CPUs (${cpuModel}), Redis ${redisUrl}`);
console.log(`sections: ${only.join(', ')}\n`);

// Jobs/s the e2e section reached with one worker, for the latency section's half-capacity load.
let e2eJobsPerS = NaN;

async function runSection(section: Section): Promise<{ rows: Row[]; details: string[] }> {
  switch (section) {
    case 'budget':
      return runBudget({ redisUrl, rate: opts.rate, durationMs: opts.budgetMs });
    case 'intake':
      return runIntake({ redisUrl, connections: opts.connections, warmupMs: opts.warmupMs, measureMs: opts.measureMs, redisPid, rounds: 3 });
    case 'e2e': {
      const out = await runE2e({ redisUrl, jobs: opts.jobs, workers: opts.workers, workerConcurrency: opts.workerConcurrency, connections: opts.connections, baselineMs: 5000, timeoutMs: 90_000, redisPid });
      // The latency section runs one worker: a capacity reached with several is not its own.
      if (opts.workers === 1) e2eJobsPerS = out.jobsPerS;
      return out;
    }
    case 'latency':
      return runLatency({ redisUrl, capacityJobsPerS: e2eJobsPerS });
    case 'memory':
      return runInflight({ redisUrl });
    case 'report':
      return runReport({ redisUrl, jobs: opts.reportJobs });
    case 'soak':
      return runSoak({ redisUrl, minutes: opts.soakMinutes });
  }
}

const rows: Row[] = [];
const started = Date.now();
let exitCode = 0;
try {
  for (const section of SECTIONS) {
    if (!only.includes(section)) continue;
    const t0 = Date.now();
    console.log(`[${section}] running ...`);
    const out = await runSection(section);
    rows.push(...out.rows);
    console.log(out.details.join('\n'));
    console.log(`[${section}] done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  console.log(formatTable(rows));
  await writeResults(RESULTS_PATH, rows);
  console.log(`\nfigures written to ${RESULTS_PATH}`);
  const passed = rows.filter((r) => r.pass === true).length;
  const failed = rows.filter((r) => r.pass === false).length;
  console.log(`\ntotal time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  exitCode = 1;
} finally {
  await cleanupAll();
}
process.exit(exitCode);
