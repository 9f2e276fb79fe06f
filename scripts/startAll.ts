// `npm start`: the simulator, one worker and the API together on the embedded defaults, their
// output interleaved with a prefix. SIGINT (Ctrl-C) or SIGTERM stops all three and waits for them
// to exit; if one dies, the others are stopped. package.json runs this script with `exec`, so the
// signals npm forwards reach it rather than an intermediate shell.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { exitUnlessRedis } from '../libs/redis/connection.ts';
import { startApp } from '../libs/devkit/processes.ts';
import { scrubConsoleOutput } from '../libs/telemetry/logger.ts';

// The apps scrub their own lines; this covers what this script prints itself (a child's output
// quoted in an error, REDIS_URL in the Redis check).
scrubConsoleOutput();
await exitUnlessRedis();
const env: NodeJS.ProcessEnv = {};
if (!process.env.GATEWAY_API_KEYS && !process.env.GATEWAY_API_KEYS_FILE) {
  env.GATEWAY_API_KEYS = `dev:dev_${randomBytes(18).toString('base64url')}`;
  console.log(`No GATEWAY_API_KEYS set: this run accepts the development key for client "dev":\n  ${env.GATEWAY_API_KEYS.slice(4)}\n`);
}
// The worker finishes its jobs within its own grace; give it that long, and a little more to exit.
const workerGraceMs = Number(process.env.WORKER_SHUTDOWN_GRACE_MS || 30_000) + 5000;
const GRACE_MS: Record<string, number> = { api: 10_000, worker: workerGraceMs, simulator: 10_000 };
const echo = (name: string) => (line: string) => console.log(`${name.padEnd(9)} | ${line}`);
// Every child from the moment it is spawned, so that a signal during start-up stops it too.
const children = new Map<ChildProcess, string>();
let stopping = false;

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM, then SIGKILL after the child's grace; resolves once it has exited. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!alive(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(force);
}

/** Stops the API first (no new jobs), then the worker (it finishes what it holds), then the simulator. */
async function stopAll(code: number): Promise<never> {
  // A terminal's Ctrl-C reaches this process twice (from the terminal and forwarded by npm): once is enough.
  if (!stopping) {
    stopping = true;
    for (const name of ['api', 'worker', 'simulator']) {
      await Promise.all([...children].filter(([, n]) => n === name).map(([child]) => stopChild(child, GRACE_MS[name]!)));
    }
    process.exit(code);
  }
  return new Promise<never>(() => {});
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  for (const name of ['simulator', 'worker', 'api'] as const) {
    if (stopping) break;
    const p = await startApp(name, { env, onLine: echo(name), onSpawn: (child) => children.set(child, name) });
    p.child.once('exit', (code) => {
      if (!stopping) {
        console.error(`${name} exited (code ${code}); stopping the others`);
        void stopAll(1);
      }
    });
  }
  if (!stopping) console.log(`\nReady: API on http://${process.env.HOST || '127.0.0.1'}:${process.env.PORT || 3000} (Ctrl-C to stop)`);
} catch (e) {
  // A signal during start-up makes the app that was starting exit early: that is the stop, not an error.
  if (!stopping) {
    console.error(e instanceof Error ? e.message : String(e));
    await stopAll(1);
  }
}
