// `npm run report -- <experiment-id> [--format table|csv|json] [--since ISO] [--client ID] [--database URL]`:
// the A/B report of an experiment, read straight from the result store (no running gateway needed).
// Exit codes: 0 printed, 1 no store or a store error, 2 a command-line mistake or an unknown experiment.
import { existsSync, statSync } from 'node:fs';
import { loadConfig } from '../libs/config/load.ts';
import { isGatewayError } from '../libs/errors/index.ts';
import { analyseExperiment, reportSince } from '../libs/experiments/report.ts';
import { formatReportTables, reportToCsv } from '../libs/experiments/reportFormat.ts';
import type { ExperimentReport } from '../libs/experiments/reportTypes.ts';
import { DEFAULT_DATABASE_PATH, openJobStore, parseDatabaseUrl } from '../libs/store/open.ts';
import { redactSecrets, urlSecrets } from '../libs/telemetry/redact.ts';
import { chooseStore, parseReportArgs, type ReportArgs } from './report/options.ts';

/** The demo's store (scripts/demo.ts keeps it after a run). */
const DEMO_DATABASE_PATH = './data/demo.sqlite';

const now = new Date();
const args = orExit(2, () => parseReportArgs(process.argv.slice(2)));
const since = orExit(2, () => reportSince(args.since, now));
const configDir = process.env.CONFIG_DIR ?? './config';
const experiments = orExit(1, () => loadConfig(configDir)).abTests.experiments;
const experiment = Object.hasOwn(experiments, args.experiment) ? experiments[args.experiment] : undefined;
if (!experiment) {
  const known = Object.keys(experiments).join(', ') || 'none';
  exit(2, `No experiment "${args.experiment}" in ${configDir}/ab_test_config.json. Known experiments: ${known}.`);
}

const databaseUrl = storeUrl(args);
const report = await orExitAsync(1, async () => {
  const store = await openJobStore(databaseUrl);
  try {
    const rows = await store.experimentRows(args.client ?? null, args.experiment, since);
    return analyseExperiment(args.experiment, experiment, rows, now, { since });
  } finally {
    await store.close();
  }
});
process.stdout.write(render(report, args));

function render(r: ExperimentReport, { format }: ReportArgs): string {
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  return format === 'csv' ? reportToCsv(r) : formatReportTables(r);
}

/** The store to read, said on stderr; exits 1 when there is none, rather than creating an empty one. */
function storeUrl(a: ReportArgs): string {
  const candidates = [DEFAULT_DATABASE_PATH, DEMO_DATABASE_PATH].map((path) => ({ path, mtimeMs: existsSync(path) ? statSync(path).mtimeMs : null }));
  const chosen = chooseStore(a.database, process.env.DATABASE_URL, candidates);
  if (!chosen) exit(1, `No result store: neither ${DEFAULT_DATABASE_PATH} nor ${DEMO_DATABASE_PATH} exists. Run \`npm run demo\` first, or pass --database URL.`);
  const target = orExit(1, () => parseDatabaseUrl(chosen.url));
  if (target.kind === 'sqlite' && target.path !== ':memory:' && !existsSync(target.path)) {
    exit(1, `No result store at ${target.path} (from ${chosen.source}). Pass --database with an existing store.`);
  }
  const shown = target.kind === 'sqlite' ? target.path : redactSecrets(chosen.url, urlSecrets(chosen.url));
  console.error(`Reading ${shown} (${chosen.source})${a.client ? `, client ${a.client}` : ', every client'}, jobs since ${since}`);
  return chosen.url;
}

function orExit<T>(code: number, run: () => T): T {
  try {
    return run();
  } catch (e) {
    return exit(code, message(e));
  }
}

async function orExitAsync<T>(code: number, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    return exit(code, message(e));
  }
}

function message(e: unknown): string {
  return isGatewayError(e) ? e.message : `report failed: ${e instanceof Error ? e.message : String(e)}`;
}

function exit(code: number, why: string): never {
  console.error(why);
  process.exit(code);
}
