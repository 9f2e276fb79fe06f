/**
 * Entry point: `node apps/simulator/main.ts`. Reads SIMULATOR_PORT (default 4010), SIMULATOR_HOST
 * (default 127.0.0.1) and SIMULATOR_KNOBS (JSON, default none); stops cleanly on SIGINT/SIGTERM.
 * A bad variable or a port in use ends it with one line and exit code 1.
 */
import { GatewayError } from '../../libs/errors/index.ts';
import { startProcess } from '../../libs/lifecycle/startup.ts';
import { knobsFromEnv } from './knobs.ts';
import { startSimulator } from './server.ts';

const simulator = await startProcess(
  'simulator',
  async () => {
    const port = Number(process.env.SIMULATOR_PORT ?? 4010);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new GatewayError('invalid_env', `SIMULATOR_PORT must be a port number from 0 to 65535, got '${process.env.SIMULATOR_PORT}'. Fix it or unset it to use 4010.`);
    }
    let knobs;
    try {
      knobs = knobsFromEnv(process.env.SIMULATOR_KNOBS);
    } catch (e) {
      throw new GatewayError('invalid_env', `${(e as Error).message}. Fix it or unset it to use the default knobs.`);
    }
    return startSimulator({ port, host: process.env.SIMULATOR_HOST ?? '127.0.0.1', knobs });
  },
  { portVariable: 'SIMULATOR_PORT' },
);
console.log(`simulator listening on ${simulator.url}`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`simulator: error while stopping on ${signal}: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
