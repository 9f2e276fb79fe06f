/**
 * Where the gateway's Redis is: one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES),
 * and what code that talks to either needs.
 */
import type { Cluster, Redis } from 'ioredis';

/** A connection to one Redis server or to a Redis Cluster; every module that keeps keys takes one. */
export type RedisClient = Redis | Cluster;

/** One node of a Redis Cluster, as listed in REDIS_CLUSTER_NODES. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where to connect. With `clusterNodes`, a cluster client that discovers the whole cluster from
 * any of them; `url` then gives only the user, password and TLS (`rediss:`) of every node.
 */
export interface RedisTarget {
  url: string;
  clusterNodes?: RedisNode[] | undefined;
}

/** `target` as a RedisTarget (a bare string is a single server's URL). */
export function asTarget(target: string | RedisTarget): RedisTarget {
  return typeof target === 'string' ? { url: target } : target;
}

/** The URL of one cluster node: `url` with its host and port replaced (credentials and TLS kept). */
export function nodeUrl(url: string, node: RedisNode): string {
  const u = new URL(url);
  u.hostname = node.host.includes(':') ? `[${node.host}]` : node.host;
  u.port = String(node.port);
  u.pathname = '';
  return u.toString();
}

/** How a target is named in logs and errors: the URL, or the cluster's listed nodes. */
export function describeTarget(target: RedisTarget): string {
  return target.clusterNodes ? `the Redis Cluster at ${target.clusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}` : target.url;
}

/**
 * Parses REDIS_CLUSTER_NODES (`host:port,host:port`; an IPv6 host in brackets). Throws an Error
 * naming the first bad entry.
 */
export function parseClusterNodes(raw: string): RedisNode[] {
  const entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) throw new Error('must list at least one host:port');
  return entries.map((entry) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/@[\]]+)):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65535) throw new Error(`must be comma-separated host:port entries; '${entry}' is not one`);
    return { host: m[1] ?? m[2]!, port };
  });
}

/** Whether `client` is a cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * The servers behind `client` that hold data: itself, or every master a cluster client knows.
 * Commands about one server (CONFIG GET, INFO, PING) must go to each of these.
 */
export function mastersOf(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/**
 * Whether every data-holding server answers PING, and a cluster says cluster_state:ok: what
 * readiness means (a cluster client that knows no master yet is not ready).
 */
export async function redisAnswers(client: RedisClient): Promise<boolean> {
  const masters = mastersOf(client);
  if (masters.length === 0) return false;
  const pongs = await Promise.all(masters.map((m) => m.ping()));
  if (!pongs.every((p) => p === 'PONG')) return false;
  if (!isCluster(client)) return true;
  const info = (await masters[0]!.call('CLUSTER', 'INFO')) as string;
  return /cluster_state:ok/.test(info);
}

/** A new connection like `client` (same target and options) under another connection name, e.g. for SUBSCRIBE. */
export function duplicateClient(client: RedisClient, connectionName: string): RedisClient {
  return isCluster(client)
    ? client.duplicate(undefined, { redisOptions: { ...client.options.redisOptions, connectionName } })
    : client.duplicate({ connectionName });
}

/**
 * Resolves once `client` is ready for commands (a cluster client: once it knows the slots), or
 * rejects after `timeoutMs` milliseconds. A fail-fast client refuses commands before that.
 */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onReady = resolve;
      client.once('ready', onReady);
      timer = setTimeout(() => reject(new Error(`Redis not ready within ${timeoutMs} ms`)), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) client.off('ready', onReady);
  }
}
