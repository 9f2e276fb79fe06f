// A stand-in for a gateway process's /metrics, generated from the metric contract: every metric the
// contract gives a process, with a few label sets each, counters and histograms growing at every
// scrape. It lets the alert rules and dashboard queries run in a real Prometheus before (and
// independently of) the processes' own exporters.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GATEWAY_METRICS, LLM_SECONDS_BUCKETS } from '../../libs/telemetry/metricNames.ts';

// Label values cycled through row by row, so that each metric shows a few distinct series and the
// queries that filter (`status="failed"`, `result="hit"`, `outcome="error"`) find some.
const LABEL_VALUES: Record<string, readonly string[]> = {
  feature: ['career_path_navigator'],
  status: ['completed', 'completed', 'failed'],
  served_by: ['provider', 'degraded', ''],
  provider: ['openai', 'anthropic'],
  model: ['gpt-4', 'claude-3-5-sonnet'],
  variant: ['gpt4', 'claude'],
  phase: ['total', 'queue', 'provider'],
  outcome: ['success', 'error', 'delivered'],
  code: ['', 'provider_timeout', ''],
  direction: ['input', 'output'],
  from: ['closed', 'open', 'half_open'],
  to: ['open', 'half_open', 'closed'],
  result: ['hit', 'miss', 'applied'],
  kind: ['exact', 'category'],
  method: ['POST', 'GET'],
  route: ['/v1/jobs', '/v1/jobs/:id'],
  state: ['waiting', 'active', 'delayed', 'prioritized'],
  alert: ['budget_80', 'p95_latency'],
};
const ROWS = 3;

/** A running stand-in exporter. */
export interface ContractExporter {
  port: number;
  /** Sets a gauge for every label row (e.g. `gateway_budget_spent_usd`). */
  setGauge(name: string, value: number): void;
  close(): Promise<void>;
}

function labelsFor(names: readonly string[], row: number): Record<string, string> {
  return Object.fromEntries(names.map((n) => {
    const values = LABEL_VALUES[n] ?? [`${n}_${row}`];
    return [n, values[row % values.length]!];
  }));
}

/** Options of startContractExporter. */
export interface ExporterOptions {
  /** Values of gauges by name, set for every label row; others read 0. */
  gauges?: Record<string, number>;
  /** What a counter grows by per label row at each scrape, by name. @defaultValue 1 */
  steps?: Record<string, number>;
}

/** Serves the contract's metrics of `process` (`both` metrics included) on a free port of 127.0.0.1. */
export async function startContractExporter(process: 'api' | 'worker', options: ExporterOptions = {}): Promise<ContractExporter> {
  const gauges = options.gauges ?? {};
  const registry = new Registry();
  const counters: { metric: Counter; labels: readonly string[]; step: number }[] = [];
  const histograms: { metric: Histogram; labels: readonly string[] }[] = [];
  const gaugeByName = new Map<string, Gauge>();
  for (const [name, spec] of Object.entries(GATEWAY_METRICS)) {
    if (spec.process !== process && spec.process !== 'both') continue;
    const common = { name, help: `${name} (test stand-in)`, labelNames: [...spec.labels], registers: [registry] };
    if (spec.type === 'counter') counters.push({ metric: new Counter(common), labels: spec.labels, step: options.steps?.[name] ?? 1 });
    else if (spec.type === 'histogram') histograms.push({ metric: new Histogram({ ...common, buckets: [...LLM_SECONDS_BUCKETS] }), labels: spec.labels });
    else gaugeByName.set(name, new Gauge(common));
  }
  const setGauge = (name: string, value: number): void => {
    const gauge = gaugeByName.get(name);
    if (!gauge) throw new Error(`${name} is not a ${process} gauge of the contract`);
    for (let row = 0; row < ROWS; row += 1) gauge.set(labelsFor(GATEWAY_METRICS[name]!.labels, row), value);
  };
  for (const name of gaugeByName.keys()) setGauge(name, gauges[name] ?? 0);

  // Every scrape sees one more event per row: counters grow and histograms fill (0.4 s to 4 s).
  const tick = (): void => {
    for (let row = 0; row < ROWS; row += 1) {
      for (const c of counters) c.metric.inc(labelsFor(c.labels, row), c.step);
      for (const h of histograms) h.metric.observe(labelsFor(h.labels, row), 0.4 * 10 ** (row / 2));
    }
  };

  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    tick();
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(String(e)),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    setGauge,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
