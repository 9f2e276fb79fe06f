// The gateway's metric contract: every name and label the processes export, in one place, so that
// the exporters, the Prometheus alert rules (ops/prometheus) and the Grafana dashboard (ops/grafana)
// cannot drift apart unnoticed (a unit test checks the rules and the dashboard against this list).

/** Prometheus metric types used by the gateway. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One exported metric: its type, its labels and the process that serves it. */
export interface MetricSpec {
  type: MetricType;
  /** Label names, `le` excluded (Prometheus adds it to histogram buckets). */
  labels: readonly string[];
  /** `worker`: each worker's own /metrics; `api`: the API's, cluster-wide state read from Redis; `both`. */
  process: 'api' | 'worker' | 'both';
}

/** Upper bounds in seconds of the LLM-call histograms: from 50 ms to 120 s, dense around the 3 s p95 target. */
export const LLM_SECONDS_BUCKETS: readonly number[] = Object.freeze([0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120]);

/** Every gateway metric by name (base name for histograms, without `_bucket`, `_sum`, `_count`). */
export const GATEWAY_METRICS: Readonly<Record<string, MetricSpec>> = Object.freeze({
  // Worker
  gateway_jobs_finished_total: { type: 'counter', labels: ['feature', 'status', 'served_by', 'provider', 'model', 'variant', 'lane'], process: 'worker' },
  gateway_job_duration_seconds: { type: 'histogram', labels: ['feature', 'phase'], process: 'worker' },
  gateway_provider_requests_total: { type: 'counter', labels: ['provider', 'model', 'outcome', 'code'], process: 'worker' },
  gateway_provider_request_duration_seconds: { type: 'histogram', labels: ['provider', 'model', 'outcome'], process: 'worker' },
  gateway_tokens_total: { type: 'counter', labels: ['provider', 'model', 'variant', 'direction'], process: 'worker' },
  gateway_cost_usd_total: { type: 'counter', labels: ['provider', 'model', 'variant', 'lane'], process: 'worker' },
  gateway_breaker_transitions_total: { type: 'counter', labels: ['provider', 'from', 'to'], process: 'worker' },
  gateway_webhook_deliveries_total: { type: 'counter', labels: ['outcome'], process: 'worker' },
  gateway_webhook_dead_letters_total: { type: 'counter', labels: [], process: 'worker' },
  gateway_cache_lookups_total: { type: 'counter', labels: ['result', 'kind'], process: 'worker' },
  gateway_config_reloads_total: { type: 'counter', labels: ['result'], process: 'both' },
  gateway_config_version_info: { type: 'gauge', labels: ['version', 'hash'], process: 'both' },
  gateway_rate_limit_waits_total: { type: 'counter', labels: ['provider'], process: 'worker' },
  gateway_rate_limit_wait_seconds_total: { type: 'counter', labels: ['provider'], process: 'worker' },
  // API
  gateway_http_request_duration_seconds: { type: 'histogram', labels: ['method', 'route', 'status'], process: 'api' },
  gateway_queue_jobs: { type: 'gauge', labels: ['state'], process: 'api' },
  gateway_queue_oldest_waiting_seconds: { type: 'gauge', labels: [], process: 'api' },
  gateway_budget_spent_usd: { type: 'gauge', labels: [], process: 'api' },
  gateway_budget_reserved_usd: { type: 'gauge', labels: [], process: 'api' },
  gateway_budget_limit_usd: { type: 'gauge', labels: [], process: 'api' },
  gateway_budget_forecast_usd: { type: 'gauge', labels: [], process: 'api' },
  gateway_budget_exhausted: { type: 'gauge', labels: [], process: 'api' },
  gateway_breaker_state: { type: 'gauge', labels: ['provider'], process: 'api' },
  gateway_alert_state: { type: 'gauge', labels: ['alert'], process: 'api' },
  gateway_redis_up: { type: 'gauge', labels: [], process: 'api' },
} satisfies Record<string, MetricSpec>);

/** The contract's metric names (histograms by base name). */
export const GATEWAY_METRIC_NAMES: readonly string[] = Object.freeze(Object.keys(GATEWAY_METRICS));

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'] as const;

/**
 * The contract entry a PromQL series name refers to (`x_bucket`, `x_sum` and `x_count` resolve to
 * histogram `x`), or undefined when the name is not in the contract.
 */
export function metricSpecOf(series: string): { name: string; spec: MetricSpec } | undefined {
  const direct = GATEWAY_METRICS[series];
  if (direct) return { name: series, spec: direct };
  for (const suffix of HISTOGRAM_SERIES) {
    if (!series.endsWith(suffix)) continue;
    const name = series.slice(0, -suffix.length);
    const spec = GATEWAY_METRICS[name];
    if (spec?.type === 'histogram') return { name, spec };
  }
  return undefined;
}

/** Label names a selector of `series` may match on: the contract's, `le` on buckets, and the scrape's `job` and `instance`. */
export function labelsOf(series: string): readonly string[] | undefined {
  const found = metricSpecOf(series);
  if (!found) return undefined;
  const extra = series.endsWith('_bucket') && found.spec.type === 'histogram' ? ['le'] : [];
  return [...found.spec.labels, ...extra, 'job', 'instance'];
}
