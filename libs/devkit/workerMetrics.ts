import type { AppProcess } from './processes.ts';

/** The port of a started worker's /metrics, from the `metricsPort` of its ready line; throws when it printed none. */
export function metricsPortOf(worker: AppProcess): number {
  const match = /"metricsPort":(\d+)/.exec(worker.output());
  if (!match) throw new Error(`${worker.name} printed no metricsPort in its ready line`);
  return Number(match[1]);
}

/** The /metrics URLs of every worker of a running system, on 127.0.0.1. */
export function workerMetricsUrls(processes: readonly AppProcess[]): string[] {
  return processes.filter((p) => p.name === 'worker').map((p) => `http://127.0.0.1:${metricsPortOf(p)}/metrics`);
}
