/**
 * The environment every process reads (README, "Environment"), parsed once into typed values.
 * Secrets live here, never in the JSON config.
 */
import { GatewayError } from '../errors/index.ts';
import { redactUrl } from '../telemetry/redact.ts';
import { parseClusterNodes, type RedisNode, type RedisTarget } from '../redis/client.ts';

/** Every variable readEnv reads, for docs and the docker-compose consistency test. */
export const ENV_VARS = [
  'PORT',
  'HOST',
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'DATABASE_URL',
  'GATEWAY_API_KEYS',
  'GATEWAY_API_KEYS_FILE',
  'GATEWAY_WEBHOOK_SECRETS',
  'GATEWAY_CALLBACK_ALLOWLIST',
  'GATEWAY_ADMIN_TOKEN',
  'GATEWAY_VIEWER_TOKEN',
  'GATEWAY_WEBHOOK_RETRY_DELAYS_MS',
  'GATEWAY_ALERT_WEBHOOK_URL',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_API_KEY',
  'CONFIG_DIR',
  'CONFIG_SYNC_POLL_MS',
  'WORKER_CONCURRENCY',
  'WORKER_METRICS_PORT',
  'WORKER_LOCK_MS',
  'WORKER_MAX_STALLED',
  'WORKER_SHUTDOWN_GRACE_MS',
  'LOG_LEVEL',
  'GATEWAY_QUEUE_PREFIX',
  'TELEMETRY_DIR',
] as const;

/** One of the names in ENV_VARS. */
export type EnvVarName = (typeof ENV_VARS)[number];

/** Log levels pino accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A client's API key, as given in GATEWAY_API_KEYS. */
export interface ClientKey {
  clientId: string;
  key: string;
}

/** The parsed environment. */
export interface GatewayEnv {
  /** The API's TCP port. Default 3000. */
  port: number;
  /**
   * The address the API binds: loopback by default, so a development machine exposes nothing;
   * containers set `0.0.0.0` (docker-compose.yml). Default `127.0.0.1`.
   */
  host: string;
  /** Redis URL. Default `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /**
   * Where every process connects: REDIS_URL, or the Redis Cluster of REDIS_CLUSTER_NODES (with
   * REDIS_URL's user, password and TLS). Pass it to createRedis. Default REDIS_URL alone.
   */
  redis: RedisTarget;
  /** Result store: SQLite path, `sqlite:` URL or `mongodb://` URL. Default `./data/gateway.sqlite`. */
  databaseUrl: string;
  /** Clients from GATEWAY_API_KEYS (development and tests). Default []. */
  apiKeys: ClientKey[];
  /** Path of a file of client key hashes (production). Default undefined. */
  apiKeysFile: string | undefined;
  /** Standard Webhooks secrets by client id; two during rotation. Default {}. */
  webhookSecrets: Record<string, string[]>;
  /**
   * Milliseconds between webhook delivery attempts (comma-separated); attempts = delays + 1.
   * Default undefined: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts over about a day).
   */
  webhookRetryDelaysMs: number[] | undefined;
  /** Slack-compatible incoming webhook the built-in alerter posts to; none: alerts go to the log only. Default undefined. */
  alertWebhookUrl: string | undefined;
  /** Bearer token (and Basic-auth password) for the operator endpoints under /admin; none disables them. */
  adminToken: string | undefined;
  /** Read-only token for /admin (Bull Board read-only, personal fields redacted; any change answers 403). Must differ from adminToken. Default undefined. */
  viewerToken: string | undefined;
  /** Lower-cased hosts allowed as webhook targets despite the SSRF rules. Default []. */
  callbackAllowlist: string[];
  /** Overrides the base_url of every provider of kind openai. */
  openaiBaseUrl: string | undefined;
  openaiApiKey: string | undefined;
  /** Overrides the base_url of every provider of kind anthropic. */
  anthropicBaseUrl: string | undefined;
  anthropicApiKey: string | undefined;
  /**
   * Every non-empty variable whose name ends in `_API_KEY`, by name, so a provider's
   * `api_key_env` can name any variable. Includes OPENAI_API_KEY and ANTHROPIC_API_KEY.
   */
  providerApiKeys: Record<string, string>;
  /** Directory of the JSON config. Default `./config`. */
  configDir: string;
  /** Milliseconds between a process's reads of the config version published in Redis (config sync). Default 500. */
  configSyncPollMs: number;
  /**
   * Jobs one worker process runs at once, i.e. provider calls it keeps in flight: size it as jobs per
   * second x p95 provider seconds (README, "Worker concurrency"). Default 500.
   */
  workerConcurrency: number;
  /** TCP port of a worker's /metrics, /healthz and /readyz; 0 lets the OS choose (logged as `metricsPort`). Default 9101. */
  workerMetricsPort: number;
  /** Milliseconds a worker's lock on a job lasts; a crashed worker's jobs are picked up again after about this long. Default 30000. */
  workerLockMs: number;
  /** Times a job may lose its worker (crash, lost lock) and run again before it is failed. Default 10. */
  workerMaxStalled: number;
  /**
   * Milliseconds a worker takes at most from SIGTERM to its exit: jobs in flight may finish until
   * shortly before it ends, then their calls are aborted and the jobs go back to the queue. Keep
   * it at or under docker-compose's stop_grace_period. Default 30000.
   */
  workerShutdownGraceMs: number;
  /** pino log level. Default `info`. */
  logLevel: (typeof LOG_LEVELS)[number];
  /** BullMQ key prefix (wrapped in `{}` hash tags by the queue code). Default `bull`. */
  queuePrefix: string;
  /** Directory of the daily telemetry (`jobs-YYYY-MM-DD.jsonl`) and audit (`audit-YYYY-MM-DD.jsonl`) files; created if missing. Default `./data/telemetry`. */
  telemetryDir: string;
}

type Env = Record<string, string | undefined>;

/** Parses the environment; throws GatewayError `invalid_env` (500) naming the bad variable. */
export function readEnv(env: Env = process.env): GatewayEnv {
  const get = (name: EnvVarName): string | undefined => {
    // docker-compose passes unset variables as '', which means "use the default".
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const redis = readRedisTarget(env);
  return {
    port: int(get('PORT') ?? '3000', 'PORT', 0, 65535),
    host: bindHost(get('HOST') ?? '127.0.0.1'),
    redisUrl: redis.url,
    redis,
    databaseUrl: get('DATABASE_URL') ?? './data/gateway.sqlite',
    apiKeys: clientKeys(get('GATEWAY_API_KEYS')),
    apiKeysFile: get('GATEWAY_API_KEYS_FILE'),
    webhookSecrets: webhookSecrets(get('GATEWAY_WEBHOOK_SECRETS')),
    callbackAllowlist: list(get('GATEWAY_CALLBACK_ALLOWLIST')).map((h) => h.toLowerCase()),
    adminToken: get('GATEWAY_ADMIN_TOKEN'),
    viewerToken: viewerToken(get('GATEWAY_VIEWER_TOKEN'), get('GATEWAY_ADMIN_TOKEN')),
    webhookRetryDelaysMs: get('GATEWAY_WEBHOOK_RETRY_DELAYS_MS') === undefined ? undefined : list(get('GATEWAY_WEBHOOK_RETRY_DELAYS_MS')).map((d) => int(d, 'GATEWAY_WEBHOOK_RETRY_DELAYS_MS', 0, 7 * 24 * 3_600_000)),
    alertWebhookUrl: httpUrl(get('GATEWAY_ALERT_WEBHOOK_URL'), 'GATEWAY_ALERT_WEBHOOK_URL'),
    openaiBaseUrl: httpUrl(get('OPENAI_BASE_URL'), 'OPENAI_BASE_URL'),
    openaiApiKey: get('OPENAI_API_KEY'),
    anthropicBaseUrl: httpUrl(get('ANTHROPIC_BASE_URL'), 'ANTHROPIC_BASE_URL'),
    anthropicApiKey: get('ANTHROPIC_API_KEY'),
    providerApiKeys: apiKeyVars(env),
    configDir: get('CONFIG_DIR') ?? './config',
    configSyncPollMs: int(get('CONFIG_SYNC_POLL_MS') ?? '500', 'CONFIG_SYNC_POLL_MS', 50, 1000),
    workerConcurrency: int(get('WORKER_CONCURRENCY') ?? '500', 'WORKER_CONCURRENCY', 1, 10_000),
    workerMetricsPort: int(get('WORKER_METRICS_PORT') ?? '9101', 'WORKER_METRICS_PORT', 0, 65535),
    workerLockMs: int(get('WORKER_LOCK_MS') ?? '30000', 'WORKER_LOCK_MS', 1000, 3_600_000),
    workerMaxStalled: int(get('WORKER_MAX_STALLED') ?? '10', 'WORKER_MAX_STALLED', 0, 1000),
    workerShutdownGraceMs: int(get('WORKER_SHUTDOWN_GRACE_MS') ?? '30000', 'WORKER_SHUTDOWN_GRACE_MS', 1000, 3_600_000),
    logLevel: logLevel(get('LOG_LEVEL') ?? 'info'),
    queuePrefix: queuePrefix(get('GATEWAY_QUEUE_PREFIX') ?? 'bull'),
    telemetryDir: get('TELEMETRY_DIR') ?? './data/telemetry',
  };
}

/**
 * Where Redis is, from REDIS_URL and REDIS_CLUSTER_NODES alone (for scripts that need nothing
 * else); throws GatewayError `invalid_env` naming a bad entry.
 */
export function readRedisTarget(env: Env = process.env): RedisTarget {
  const url = redisUrl(env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379');
  const nodes = env.REDIS_CLUSTER_NODES?.trim();
  return nodes ? { url, clusterNodes: clusterNodes(nodes) } : { url };
}

function clusterNodes(raw: string): RedisNode[] {
  try {
    return parseClusterNodes(raw);
  } catch (e) {
    throw bad('REDIS_CLUSTER_NODES', (e as Error).message);
  }
}

function viewerToken(viewer: string | undefined, admin: string | undefined): string | undefined {
  // One token for both roles would make every viewer an admin.
  if (viewer !== undefined && viewer === admin) throw bad('GATEWAY_VIEWER_TOKEN', 'must differ from GATEWAY_ADMIN_TOKEN');
  return viewer;
}

function bad(name: string, message: string): GatewayError {
  return new GatewayError('invalid_env', `Environment variable ${name} ${message}. Fix it, or unset it to use the default.`, {
    status: 500,
    details: [{ path: name, message }],
  });
}

function int(raw: string, name: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw bad(name, `must be a whole number from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

// Split at the first ':' only: keys and secrets may themselves contain ':'.
function pairs(raw: string | undefined, name: string, example: string): [string, string][] {
  return list(raw).map((item) => {
    const at = item.indexOf(':');
    const id = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (at < 0 || id === '' || value === '') throw bad(name, `must be comma-separated ${example} pairs; '${mask(item)}' is not one`);
    return [id, value];
  });
}

// Never echo a whole secret into logs.
function mask(item: string): string {
  return item.length <= 6 ? '***' : `${item.slice(0, 4)}***`;
}

function clientKeys(raw: string | undefined): ClientKey[] {
  const owners = new Map<string, string>();
  return pairs(raw, 'GATEWAY_API_KEYS', 'client_id:key').map(([clientId, key]) => {
    const owner = owners.get(key);
    if (owner !== undefined && owner !== clientId) {
      throw bad('GATEWAY_API_KEYS', `gives one key to both '${owner}' and '${clientId}'; each key must belong to one client`);
    }
    owners.set(key, clientId);
    return { clientId, key };
  });
}

function webhookSecrets(raw: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [clientId, secret] of pairs(raw, 'GATEWAY_WEBHOOK_SECRETS', 'client_id:whsec_...')) {
    if (!secret.startsWith('whsec_') || secret.length <= 'whsec_'.length) {
      throw bad('GATEWAY_WEBHOOK_SECRETS', `needs Standard Webhooks secrets starting with 'whsec_' (client '${clientId}')`);
    }
    (out[clientId] ??= []).push(secret);
  }
  return out;
}

function apiKeyVars(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const v = value?.trim();
    if (name.endsWith('_API_KEY') && v) out[name] = v;
  }
  return out;
}

function redisUrl(raw: string): string {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw bad('REDIS_URL', `must be a redis:// or rediss:// URL, got '${redactUrl(raw)}'`);
  }
  return raw;
}

function httpUrl(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined;
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw bad(name, `must be an http(s) URL, got '${redactUrl(raw)}'`);
  return raw;
}

function logLevel(raw: string): GatewayEnv['logLevel'] {
  const level = LOG_LEVELS.find((l) => l === raw.toLowerCase());
  if (!level) throw bad('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
  return level;
}

function queuePrefix(raw: string): string {
  // Braces would break the `{prefix}` hash tag; ':' would split BullMQ's own key scheme.
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw bad('GATEWAY_QUEUE_PREFIX', `may hold only letters, digits, '_' and '-', got '${raw}'`);
  return raw;
}

/** A bind address as `listen` takes it: an IPv4 or IPv6 literal, or a host name (no port, no brackets). */
function bindHost(value: string): string {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(value)) throw bad('HOST', `must be an address or host name to bind, like 127.0.0.1, 0.0.0.0 or ::, got '${value.slice(0, 60)}'`);
  return value;
}
