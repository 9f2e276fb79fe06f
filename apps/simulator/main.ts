/**
 * Entry point: `node apps/simulator/main.ts`. Reads SIMULATOR_PORT (default 4010), SIMULATOR_HOST
 * (default 127.0.0.1), SIMULATOR_KNOBS (JSON, default none) and LOG_LEVEL; logs JSON lines (pino),
 * like the gateway's processes; stops cleanly on SIGINT/SIGTERM. A bad variable or a port in use
 * ends it with one line and exit code 1.
 */
import { GatewayError } from '../../libs/errors/index.ts';
import { startProcess } from '../../libs/lifecycle/startup.ts';
import { knobsFromEnv } from './knobs.ts';
import { startSimulator } from './server.ts';
import { announceReady, createLogger } from '../../libs/telemetry/logger.ts';
import { LOG_LEVELS } from '../../libs/config/env.ts';

const { simulator, log } = await startProcess(
  'simulator',
  async () => {
    const level = process.env.LOG_LEVEL?.trim().toLowerCase() || 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new GatewayError('invalid_env', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${process.env.LOG_LEVEL}'. Fix it or unset it to use info.`);
    }
    const log = createLogger('simulator', level);
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
    return { simulator: await startSimulator({ port, host: process.env.SIMULATOR_HOST ?? '127.0.0.1', knobs }), log };
  },
  { portVariable: 'SIMULATOR_PORT' },
);
announceReady(log, { url: simulator.url }, `simulator listening on ${simulator.url}`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  simulator.close().then(
    () => log.flush(() => process.exit(0)),
    (e: unknown) => {
      log.error({ err: e, signal }, 'simulator: error while stopping');
      log.flush(() => process.exit(1));
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
