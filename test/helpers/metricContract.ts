// Checks a process's real /metrics text against the metric contract (libs/telemetry/metricNames.ts),
// so that what the processes export cannot drift from what the alert rules and dashboard query.
import { GATEWAY_METRICS, type MetricSpec } from '../../libs/telemetry/metricNames.ts';

/** What is wrong with `text` (a Prometheus exposition) for `process` against the contract; [] when nothing. */
export function contractViolations(text: string, process: 'api' | 'worker', optional: readonly string[] = []): string[] {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const problems: string[] = [];
  const mine = Object.entries(GATEWAY_METRICS).filter(([, spec]) => spec.process === process || spec.process === 'both');
  for (const [name, spec] of mine) {
    const type = types.get(name);
    if (type === undefined) {
      if (!optional.includes(name)) problems.push(`${name}: not exported`);
      continue;
    }
    if (type !== spec.type) problems.push(`${name}: ${type}, the contract says ${spec.type}`);
    for (const labels of seriesLabels(text, name, spec)) {
      const expected = [...spec.labels].sort().join(',');
      if (labels !== expected) problems.push(`${name}: labels {${labels}}, the contract says {${expected}}`);
    }
  }
  for (const name of types.keys()) {
    // prom-client's process and Node.js defaults carry a per-process prefix and are not the contract's.
    if (name.startsWith('gateway_') && !/^gateway_(api|worker)_(process|nodejs)_/.test(name) && !GATEWAY_METRICS[name]) problems.push(`${name}: exported but not in the contract`);
  }
  return problems;
}

/** The distinct sorted label-name lists of the series of `name` (histogram `le` left out). */
function seriesLabels(text: string, name: string, spec: MetricSpec): Set<string> {
  const series = spec.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name];
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? /.exec(line);
    if (!m || !series.includes(m[1]!)) continue;
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)].map((l) => l[1]!).filter((l) => l !== 'le');
    found.add(labels.sort().join(','));
  }
  return found;
}
