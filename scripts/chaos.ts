// `npm run chaos`: the fault suite. Each scenario starts its own gateway on its own redis-server,
// injects a fault, and measures what it promised; one table at the end, exit code 1 if any failed.
// Options: --quick (smaller sizes, under 5 minutes)   --only a,c (some scenarios)
import { cpus } from 'node:os';
import { cleanupAll, cleanupOnSignals } from './bench/cleanup.ts';
import type { ChaosContext } from './chaos/harness.ts';
import { exitCodeOf, formatTable, parseChaosArgs, seconds, summary, type ScenarioResult } from './chaos/verdict.ts';
import { sigkillWorkers, tightBudgetKills } from './chaos/workerKills.ts';
import { redisStalls } from './chaos/redisStall.ts';
import { redisRestart } from './chaos/redisRestart.ts';
import { providerOutage } from './chaos/providerOutage.ts';
import { webhookFlap } from './chaos/webhookFlap.ts';
import { shutdownPastGrace } from './chaos/shutdown.ts';
import { clusterFailover } from './chaos/cluster.ts';

type Scenario = (ctx: ChaosContext) => Promise<Omit<ScenarioResult, 'wallMs'>>;

const SCENARIOS: Record<string, { title: string; run: Scenario }> = {
  a: { title: 'SIGKILL workers during load', run: sigkillWorkers },
  b: { title: 'tight budget with SIGKILLs', run: tightBudgetKills },
  c: { title: 'Redis CLIENT PAUSE and SIGSTOP', run: redisStalls },
  d: { title: 'Redis restarted empty', run: redisRestart },
  e: { title: 'provider down, up, down', run: providerOutage },
  f: { title: 'webhook receiver flapping', run: webhookFlap },
  g: { title: 'SIGTERM past the grace', run: shutdownPastGrace },
  h: { title: 'Redis Cluster failover', run: clusterFailover },
};

let args;
try {
  args = parseChaosArgs(process.argv.slice(2), Object.keys(SCENARIOS));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}

cleanupOnSignals("the suite's processes and private Redis servers");

console.log(`llm-gateway chaos${args.quick ? ' --quick' : ''}: node ${process.version}, ${cpus().length} CPUs; scenarios ${args.only.join(', ')}\n`);
const started = Date.now();
const results: ScenarioResult[] = [];
for (const id of args.only) {
  const { title, run } = SCENARIOS[id]!;
  const t0 = Date.now();
  console.log(`[${id}] ${title} ...`);
  const ctx: ChaosContext = { quick: args.quick, say: (m) => console.log(`[${id}]   ${m}`) };
  try {
    results.push({ ...(await run(ctx)), wallMs: Date.now() - t0 });
  } catch (e) {
    results.push({ id, did: title, checks: [], outcome: 'ERROR', wallMs: Date.now() - t0, note: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
    console.error(`[${id}] the scenario itself failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    await cleanupAll();
  }
  const last = results.at(-1)!;
  console.log(`[${id}] ${last.outcome} in ${seconds(last.wallMs)}\n`);
}
console.log(formatTable(results));
console.log(`\n${summary(results)}; total ${seconds(Date.now() - started)}`);
process.exit(exitCodeOf(results));
