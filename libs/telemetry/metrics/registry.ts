import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConfigReloadEvent } from '../../config/watch.ts';
import type { ConfigVersion } from '../../config/sync/version.ts';

// prom-client's default metrics include three gauges named `..._total`, which Prometheus
// conventions (and `promtool check metrics`) reserve for counters.
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A registry with the process's default metrics (CPU, memory, event loop) under `prefix`, e.g. `gateway_api_`. */
export function createProcessRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`${prefix}${name}`);
  return registry;
}

/** Milliseconds a metric may spend reading Redis at scrape time; past it the metric keeps its last values. @defaultValue 500 */
export const COLLECT_TIMEOUT_MS = 500;

/** `read`'s answer, or undefined when it fails or takes longer than `timeoutMs`: a scrape never waits on a stalled Redis. */
export async function fresh<T>(read: () => Promise<T>, timeoutMs: number = COLLECT_TIMEOUT_MS): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([read().catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where config reloads are heard (ConfigHolder.onReload). */
export interface ReloadSource {
  onReload(observer: (event: ConfigReloadEvent) => void): unknown;
}

/** Registers `gateway_config_reloads_total{result}` (applied | refused) and counts `source`'s reloads into it. */
export function countConfigReloads(registry: Registry, source: ReloadSource): Counter<'result'> {
  const reloads = new Counter({
    name: 'gateway_config_reloads_total',
    help: 'Config reloads seen by this process: applied, or refused (invalid files; the running config stayed).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Both series exist from the start, so a rate over them is defined before the first reload.
  reloads.inc({ result: 'applied' }, 0);
  reloads.inc({ result: 'refused' }, 0);
  source.onReload((event) => reloads.inc({ result: event.applied ? 'applied' : 'refused' }));
  return reloads;
}

/** Where the running config's version is read (ConfigHolder.version). */
export interface ConfigVersionSource {
  version(): ConfigVersion;
}

/** Registers `gateway_config_version_info{version,hash}`: one series, value 1, naming the config this process runs at scrape time. */
export function reportConfigVersion(registry: Registry, source: ConfigVersionSource): Gauge<'version' | 'hash'> {
  return new Gauge({
    name: 'gateway_config_version_info',
    help: 'The config this process runs: publication number (0 before its first publication) and content hash; always 1.',
    labelNames: ['version', 'hash'] as const,
    registers: [registry],
    collect() {
      const v = source.version();
      this.reset();
      this.set({ version: String(v.number), hash: v.hash }, 1);
    },
  });
}
