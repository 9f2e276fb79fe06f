import type { Logger } from 'pino';
import { readEnv, type GatewayEnv } from '../config/env.ts';
import { ConfigHolder } from '../config/watch.ts';
import { exitUnlessRedis } from '../redis/connection.ts';
import { createLogger } from '../telemetry/logger.ts';

/** What every gateway process has once started: its logger, environment and live config. */
export interface ProcessBasics {
  log: Logger;
  env: GatewayEnv;
  config: ConfigHolder;
}

/**
 * The start of the api and worker processes: read the environment, stop in one clear line when
 * Redis is unreachable, load the config (refusing an invalid one) and watch it for changes.
 */
export async function startGatewayProcess(name: string): Promise<ProcessBasics> {
  const log = createLogger(name);
  const env = readEnv();
  await exitUnlessRedis(env.redisUrl);
  const config = new ConfigHolder(env.configDir, log);
  config.watch();
  return { log, env, config };
}
