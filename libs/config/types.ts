/**
 * The shape of the JSON files under CONFIG_DIR (README, "Configuration"). Each file has a JSON
 * Schema in config/schemas/ that says the same thing; the loader validates against it.
 */

/** One price period for a model, in US dollars per million tokens. */
export interface PricePeriod {
  /** ISO date (YYYY-MM-DD) from which this price applies, inclusive. */
  effective_from: string;
  input_per_mtok_usd: number;
  output_per_mtok_usd: number;
  /** Price of input tokens served from the provider's prompt cache, when it reports them. */
  cached_input_per_mtok_usd?: number;
  /** Input price through the provider's batch API; without it the model never rides the batch lane. @defaultValue undefined */
  batch_input_per_mtok_usd?: number;
  /** Output price through the batch API (set with batch_input_per_mtok_usd). @defaultValue undefined */
  batch_output_per_mtok_usd?: number;
  /** Cached input price through the batch API. @defaultValue batch_input_per_mtok_usd */
  batch_cached_input_per_mtok_usd?: number;
}

/** The batch lane (provider_settings.json `batch`); see docs/batch-lane.md. */
export interface BatchLaneSettings {
  /** False sends every job through the realtime lane. */
  enabled: boolean;
  /** A provider's batch is sent once this many jobs wait for it. @defaultValue 1000 */
  max_items: number;
  /** ...or once its oldest job has waited this many ms. @defaultValue 60000 */
  max_age_ms: number;
  /** Milliseconds between two ticks of the lane (flush, poll, collect), one cluster-wide. @defaultValue 10000 */
  poll_interval_ms: number;
  /** A job rides the batch lane only when its deadline is at least this many seconds off. @defaultValue 900 */
  min_deadline_s: number;
  /** Seconds before its deadline at which a job whose batch has not answered goes to the realtime lane. @defaultValue 600 */
  realtime_margin_s: number;
}

export interface ModelSettings {
  /** Price periods; the latest whose effective_from is not after the call's date applies. */
  prices: PricePeriod[];
  /** Largest output the model may produce, in tokens. */
  max_output_tokens: number;
}

export interface RetrySettings {
  /** Retries inside one call (not counting the first try). Default 2. */
  max_retries: number;
  /** First backoff delay in milliseconds, doubled each retry with full jitter. Default 200. */
  initial_delay_ms: number;
  /** Largest backoff delay in milliseconds. Default 5000. */
  max_delay_ms: number;
  /** Longest `retry-after` we honour inside a call, in milliseconds; longer waits go back to the queue. Default 10000. */
  max_retry_after_ms: number;
}

export interface BreakerSettings {
  /** Consecutive failures that open the breaker. Default 5. */
  consecutive_failures: number;
  /** Failure ratio (0-1) over the sampling window that opens the breaker. Default 0.5. */
  failure_rate: number;
  /** Sampling window for the failure ratio, in milliseconds. Default 30000. */
  sampling_window_ms: number;
  /** Calls needed in the window before the ratio counts. Default 10. */
  minimum_throughput: number;
  /** Milliseconds an open breaker waits before letting one trial call through. Default 30000. */
  half_open_after_ms: number;
}

export interface ProviderSettings {
  /** Which wire format / SDK: 'openai' (Chat Completions) or 'anthropic' (Messages). */
  kind: 'openai' | 'anthropic';
  /** Endpoint; OPENAI_BASE_URL / ANTHROPIC_BASE_URL override it. Defaults to the local simulator. */
  base_url: string;
  /** Environment variable that holds the API key (never the key itself). */
  api_key_env: string;
  /** Milliseconds before one HTTP request is aborted. */
  timeout_ms: number;
  models: Record<string, ModelSettings>;
  retry: RetrySettings;
  breaker: BreakerSettings;
}

export interface ProviderSettingsFile {
  /** The batch lane; absent: every job goes through the realtime lane. @defaultValue undefined */
  batch?: BatchLaneSettings;
  providers: Record<string, ProviderSettings>;
  /** For each provider, the providers to try next, in order, when it fails. */
  failover: Record<string, string[]>;
}

export interface Variant {
  /** Name recorded on the job (e.g. 'gpt4'). */
  name: string;
  provider: string;
  model: string;
  /** Relative weight; weights need not sum to 100. */
  weight: number;
  /** The feature's prompt version this variant is served with; absent: the feature's active one. @defaultValue undefined */
  prompt_version?: string;
}

export interface CategoryOverride {
  /** Match on derived category fields, e.g. {"sector": "healthcare"}; all must match. */
  match: Record<string, string>;
  /** Weights by variant name that replace the defaults for matching requests. */
  weights: Record<string, number>;
}

export interface Experiment {
  feature: string;
  /** 'running' assigns by weight; 'paused' sends everyone to the first variant, outside the comparison. */
  status: 'running' | 'paused';
  /** Which request field makes assignment sticky. */
  unit: 'user_id';
  /** Mixed into the hash so that experiments assign independently. */
  salt: string;
  /** The first variant is the control: what requests outside the experiment (paused, schedule, holdout) get. */
  variants: Variant[];
  overrides: CategoryOverride[];
  /** ISO 8601 time assignment starts (inclusive); before it every request gets the control. @defaultValue undefined (no start) */
  starts_at?: string;
  /** ISO 8601 time assignment ends (exclusive); from then on every request gets the control. @defaultValue undefined (no end) */
  ends_at?: string;
  /** Share of units (0-1) kept out of the experiment and served by the control. @defaultValue 0 */
  holdout?: number;
}

export interface AbTestConfigFile {
  experiments: Record<string, Experiment>;
}

export interface BudgetSettings {
  /** Hard monthly limit in US dollars. Default 5000. */
  monthly_usd: number;
  /** Optional daily limit in US dollars; null for none. */
  daily_usd: number | null;
  /** Fractions of a limit at which one alert fires per window. Default [0.8, 0.9, 0.95, 1.0]. */
  alert_thresholds: number[];
  /** What happens to a job the budget cannot afford. */
  on_exhausted: 'reject' | 'defer' | 'downgrade';
  /** Milliseconds a reservation lives before the reaper charges it as a dead worker's. Default 600000. */
  reservation_ttl_ms: number;
  /** Spreads the month's budget over its days (docs/operations.md, Budget pacing); absent: off, the budget is only a hard cap. @defaultValue undefined */
  pacing?: BudgetPacingSettings;
}

/** rate_limits.json `budget.pacing`: what happens once a day's share of the month's budget is spent. */
export interface BudgetPacingSettings {
  /** False keeps the settings but paces nothing. @defaultValue false (as shipped) */
  enabled: boolean;
  /**
   * How what remains of the month is spread over the days left: `even`, or a weight per weekday
   * (`weekday_weights`, seven numbers >= 0, Sunday first, not all 0). @defaultValue 'even'
   */
  curve: 'even' | { weekday_weights: number[] };
  /**
   * What a job gets once today's allowance is spent: `defer` (to tomorrow), `downgrade` (to the
   * cheapest model that fits what is left, else defer) or `batch` (to the batch lane when its
   * deadline leaves room, else defer). @defaultValue 'defer'
   */
  action: 'defer' | 'downgrade' | 'batch';
  /** Under `batch`: the deadline, seconds from the moment pacing moves it, of a job that gave no `deadline_s`. @defaultValue 3600 */
  batch_deadline_s?: number;
}

export interface ProviderLimits {
  /** Requests per minute across all workers. */
  rpm: number;
  /** Tokens per minute across all workers. */
  tpm: number;
}

export interface ClientLimits {
  /** Job submissions per minute for one client at the API. */
  rpm: number;
  /** Reads per minute (every /v1 request but a submission), a budget separate from `rpm`. Default 1200. */
  read_rpm?: number;
  /** Hosts this client may use as webhook targets despite the SSRF rules (local development). Default none. */
  callback_allowlist?: string[];
}

export interface RateLimitsFile {
  budget: BudgetSettings;
  providers: Record<string, ProviderLimits>;
  /** Limits per client id; `default` applies to clients not listed. */
  clients: Record<string, ClientLimits>;
}

export interface PromptVersion {
  /** System prompt. */
  system: string;
  /** User message with {{field}} placeholders filled from the job's input. */
  user_template: string;
}

export interface FeatureConfig {
  name: string;
  /** The experiment (in ab_test_config.json) that picks the variant for this feature. */
  experiment: string;
  /** JSON Schema of the job's `input`. */
  input_schema: Record<string, unknown>;
  prompts: { active: string; versions: Record<string, PromptVersion> };
  output: FeatureOutputSettings;
  cache: FeatureCacheSettings;
  /** How the generic answer per category is written; absent: no generic answers, outages get the degraded answer. */
  category_fallback?: CategoryFallbackSettings;
  /** The answer given, flagged degraded, when no provider and no cache can serve. */
  degraded_fallback: { text: string };
  /** Which fields of a job are personal, hidden from read-only operators; absent: its whole input, metadata and answer. */
  privacy?: FeaturePrivacySettings;
}

/** Generation parameters, sent identically to whichever provider and model serves a job. */
export interface FeatureOutputSettings {
  /** Most output tokens an answer may have; also what a budget hold reserves for. */
  max_output_tokens: number;
  /** Sampling temperature, 0-2. */
  temperature: number;
  /** Nucleus sampling mass, 0-1; absent: the providers' default (1). @defaultValue undefined */
  top_p?: number;
  /** Up to 4 sequences that end an answer. @defaultValue [] */
  stop?: string[];
}

/** The personal fields of a feature's jobs, redacted wherever a viewer (GATEWAY_VIEWER_TOKEN) sees job data. */
export interface FeaturePrivacySettings {
  /**
   * Fields of the request, named as the client sends them: `user_id`, `callback_url`, `input` or
   * `metadata`, or a dotted path inside the last two (`input.degree.field`).
   */
  personal_fields: string[];
  /** Whether the answer is personal too (it is written from the personal input). @defaultValue true */
  answer_is_personal?: boolean;
}

export interface FeatureCacheSettings {
  enabled: boolean;
  ttl_seconds: number;
  stale_ttl_seconds: number;
  key_fields: string[];
  /**
   * Who shares cached answers: `client` (each API client has its own cache) or `shared` (every
   * client of the feature reads one cache). @defaultValue 'client'
   */
  scope?: 'client' | 'shared';
}

/**
 * The prompt of a feature's generic answer per category: written from the category alone (its
 * placeholders are the category fields `sector`, `degree_level`, `experience_band`), so it holds
 * no one's personal data and can be served to anyone of that category while providers are down.
 */
export interface CategoryFallbackSettings {
  system: string;
  /** User message; only {{sector}}, {{degree_level}} and {{experience_band}} are filled. */
  user_template: string;
  /** Seconds a generic answer stays fresh before the next paid answer of its category renews it. @defaultValue 604800 */
  ttl_seconds: number;
  /**
   * Most generic answers one client's traffic may ask for per UTC day, bounding what unusual
   * sectors can add to its spend. @defaultValue 200
   */
  max_per_client_per_day?: number;
}

/** Everything loaded from CONFIG_DIR, validated. */
export interface GatewayConfig {
  providers: ProviderSettingsFile;
  abTests: AbTestConfigFile;
  rateLimits: RateLimitsFile;
  features: Record<string, FeatureConfig>;
  alerts: AlertsFile;
}

/** A windowed alert's common fields (alerts.json). */
interface WindowedAlert {
  enabled: boolean;
  /** Seconds of history the condition looks at. */
  window_seconds: number;
}

/** The built-in alerter's rules (alerts.json); see docs/alerts.md. */
export interface AlertsFile {
  /** Milliseconds between two evaluations, one cluster-wide. @defaultValue 15000 */
  evaluation_interval_ms: number;
  /** Width in seconds of the buckets workers record signals in. @defaultValue 10 */
  bucket_seconds: number;
  /** Seconds a firing alert's condition must stay ended before it resolves (damps flapping at a threshold). @defaultValue 0 */
  resolve_after_seconds?: number;
  /** Fractions of the monthly (and daily) limit spent; each fires once per budget window. */
  budget: { enabled: boolean; thresholds: number[] };
  /** Fires when what is left cannot pay for one more job's worst case. */
  budget_exhausted: { enabled: boolean };
  /** Fires when the last 24 hours' demand (spend plus what pacing held back) would run out the month's budget before the month ends; absent: off. @defaultValue undefined */
  budget_forecast?: { enabled: boolean };
  /** p95 of the total job latency above `threshold_seconds`; with fewer than `min_jobs` finished in the window the alert keeps its state. */
  latency_p95: WindowedAlert & { threshold_seconds: number; min_jobs: number };
  /** Share of failed, rejected and degraded jobs above `threshold` (0-1); with fewer than `min_jobs` finished the alert keeps its state. */
  error_rate: WindowedAlert & { threshold: number; min_jobs: number };
  /** A provider's shared breaker is not closed; one alert per provider. */
  breaker_open: { enabled: boolean };
  /** More than `threshold` webhook deliveries dead-lettered in the window. */
  webhook_dead_letters: WindowedAlert & { threshold: number };
  /** The oldest waiting job is older than `threshold_seconds`. */
  queue_backlog: { enabled: boolean; threshold_seconds: number };
  /** More than `threshold` calls held back by a provider's RPM/TPM limit in the window; one alert per provider. */
  rate_limit_waits: WindowedAlert & { threshold: number };
}
