import { randomBytes, randomUUID } from 'node:crypto';
import { freePort, startApp, type AppProcess } from './processes.ts';

/** Options for startSystem; every field has a default that runs on one machine. */
export interface SystemOptions {
  /** Worker processes to start. Default 1. */
  workers?: number;
  /** Simulator knobs (see apps/simulator/knobs.ts), passed as SIMULATOR_KNOBS. */
  simulatorKnobs?: unknown;
  /** Environment added to every process (e.g. DATABASE_URL, CONFIG_DIR). */
  env?: NodeJS.ProcessEnv;
  /** Use this port for the API instead of a free one. */
  apiPort?: number;
  /** Use this port for the simulator instead of a free one. */
  simulatorPort?: number;
  onLine?: (process: string, line: string) => void;
}

/** A running api + worker(s) + simulator, on their own queue prefix and API key. */
export interface RunningSystem {
  apiUrl: string;
  simulatorUrl: string;
  apiKey: string;
  clientId: string;
  queuePrefix: string;
  env: NodeJS.ProcessEnv;
  processes: AppProcess[];
  /** Starts one more worker with the same environment. */
  addWorker(): Promise<AppProcess>;
  /** Starts one more worker with the same environment plus `env`. */
  addWorkerWith(env: NodeJS.ProcessEnv): Promise<AppProcess>;
  /** Stops every process, workers first (they finish what they hold). */
  stop(): Promise<void>;
}

/**
 * Starts the simulator, the worker(s) and the API as child processes wired to each other:
 * providers point at the simulator, and a fresh queue prefix keeps this run apart from others.
 */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const simulatorPort = options.simulatorPort ?? (await freePort());
  const apiPort = options.apiPort ?? (await freePort());
  const clientId = 'demo';
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`;
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
  // A caller may choose the prefix (e.g. to know its cluster slot beforehand); it is still this run's alone.
  const queuePrefix = options.env?.GATEWAY_QUEUE_PREFIX ?? `gw-${randomUUID().slice(0, 8)}`;
  const env: NodeJS.ProcessEnv = {
    PORT: String(apiPort),
    GATEWAY_API_KEYS: `${clientId}:${apiKey}`,
    GATEWAY_QUEUE_PREFIX: queuePrefix,
    OPENAI_BASE_URL: `${simulatorUrl}/v1`,
    ANTHROPIC_BASE_URL: simulatorUrl,
    SIMULATOR_PORT: String(simulatorPort),
    // Many workers run side by side: each takes a free port for its /metrics (logged as metricsPort).
    WORKER_METRICS_PORT: '0',
    SIMULATOR_KNOBS: options.simulatorKnobs === undefined ? undefined : JSON.stringify(options.simulatorKnobs),
    ...options.env,
  };
  const processes: AppProcess[] = [];
  const start = async (name: 'api' | 'worker' | 'simulator', extra: NodeJS.ProcessEnv = {}) => {
    const p = await startApp(name, { env: { ...env, ...extra }, onLine: options.onLine && ((line) => options.onLine!(name, line)) });
    processes.push(p);
    return p;
  };
  const stop = async () => {
    const order = ['api', 'worker', 'simulator'];
    for (const name of order) await Promise.all(processes.filter((p) => p.name === name).map((p) => p.stop()));
  };
  try {
    await start('simulator');
    // Wait for every worker start to settle before failing, so stop() below also ends the ones
    // that were still starting when another failed (they would outlive the test otherwise).
    const workers = await Promise.allSettled(Array.from({ length: options.workers ?? 1 }, () => start('worker')));
    const failed = workers.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
    await start('api');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    simulatorUrl,
    apiKey,
    clientId,
    queuePrefix,
    env,
    processes,
    addWorker: () => start('worker'),
    addWorkerWith: (extra) => start('worker', extra),
    stop,
  };
}
