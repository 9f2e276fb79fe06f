/**
 * Entry point: `node apps/simulator/main.ts`. Reads SIMULATOR_PORT (default 4010), SIMULATOR_HOST
 * (default 127.0.0.1) and SIMULATOR_KNOBS (JSON, default none); stops cleanly on SIGINT/SIGTERM.
 */
import { knobsFromEnv } from './knobs.ts';
import { startSimulator } from './server.ts';

const port = Number(process.env.SIMULATOR_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SIMULATOR_PORT must be a port number, got ${process.env.SIMULATOR_PORT}`);
  process.exit(1);
}

let knobs;
try {
  knobs = knobsFromEnv(process.env.SIMULATOR_KNOBS);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}

const simulator = await startSimulator({ port, host: process.env.SIMULATOR_HOST ?? '127.0.0.1', knobs });
console.log(`simulator listening on ${simulator.url}`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`simulator: error while stopping on ${signal}`, e);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
