import { writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { readEnv, type GatewayEnv } from '../config/env.ts';
import { ConfigHolder } from '../config/watch.ts';
import { redisProblem } from '../redis/connection.ts';
import { createLogger, redactorForProcess, scrubConsoleOutput } from '../telemetry/logger.ts';
import { describeFailure, failureLine, type FailureContext } from './failure.ts';
import { onHangup } from './shutdown.ts';

/** What every gateway process has once started: its logger, environment and live config. */
export interface ProcessBasics {
  log: Logger;
  env: GatewayEnv;
  config: ConfigHolder;
}

/**
 * Prints the one line for `err` (see failureLine; scrubbed of secrets) on stderr, synchronously
 * so nothing is lost, and exits 1.
 */
export function exitWithFailure(name: string, err: unknown, context: FailureContext = {}): never {
  writeSync(2, `${redactorForProcess().lines(failureLine(name, describeFailure(err, context)))}\n`);
  process.exit(1);
}

let guarded = false;

/**
 * Makes process `name` safe to run: everything it prints is scrubbed of secrets, any error nobody
 * catches (at start-up, where a main's top-level await rejects, or later) ends it with one line
 * and exit code 1 instead of a stack trace, and SIGHUP no longer ends it. Idempotent.
 */
export function guardProcess(name: string, context: FailureContext = {}): void {
  scrubConsoleOutput();
  if (guarded) return;
  guarded = true;
  // An unhandled rejection arrives here too (Node's default --unhandled-rejections=throw).
  process.on('uncaughtException', (err) => exitWithFailure(name, err, context));
  // Until the process has something to reload, SIGHUP does nothing rather than kill it.
  onHangup(() => {});
}

/**
 * Runs the start-up of process `name` under guardProcess: if `start` fails, prints one line
 * naming the problem (code, what is wrong, what to do) and exits 1.
 */
export async function startProcess<T>(name: string, start: () => Promise<T>, context: FailureContext = {}): Promise<T> {
  guardProcess(name, context);
  try {
    return await start();
  } catch (e) {
    return exitWithFailure(name, e, context);
  }
}

/**
 * The start of the api and worker processes: guard the process, read the environment, stop in one
 * clear line when Redis is unreachable or refuses the password, load the config (refusing an
 * invalid one) and watch it for changes; SIGHUP reloads it.
 */
export async function startGatewayProcess(name: string): Promise<ProcessBasics> {
  return startProcess(name, async () => {
    const env = readEnv();
    const log = createLogger(name, env.logLevel);
    const problem = await redisProblem(env.redis);
    if (problem) throw problem;
    const config = new ConfigHolder(env.configDir, log);
    config.watch();
    onHangup(() => {
      log.info({ signal: 'SIGHUP' }, 'SIGHUP: reloading the config');
      config.reload();
    });
    return { log, env, config };
  });
}
