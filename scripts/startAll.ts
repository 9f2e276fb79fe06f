// `npm start`: the simulator, one worker and the API together on the embedded defaults, their
// output interleaved with a prefix. Ctrl-C stops all three; if one dies, the others are stopped.
import { randomBytes } from 'node:crypto';
import { exitUnlessRedis } from '../libs/redis/connection.ts';
import { startApp, type AppProcess } from '../libs/devkit/processes.ts';
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
const echo = (name: string) => (line: string) => console.log(`${name.padEnd(9)} | ${line}`);
const running: AppProcess[] = [];
let stopping = false;
const stopAll = async (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const name of ['api', 'worker', 'simulator']) await Promise.all(running.filter((p) => p.name === name).map((p) => p.stop()));
  process.exit(code);
};
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

try {
  for (const name of ['simulator', 'worker', 'api'] as const) {
    const p = await startApp(name, { env, onLine: echo(name) });
    running.push(p);
    p.child.once('exit', (code) => {
      if (!stopping) {
        console.error(`${name} exited (code ${code}); stopping the others`);
        void stopAll(1);
      }
    });
  }
  console.log(`\nReady: API on http://127.0.0.1:${process.env.PORT ?? 3000} (Ctrl-C to stop)`);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  await stopAll(1);
}
