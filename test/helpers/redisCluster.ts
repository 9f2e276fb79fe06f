/**
 * A Redis Cluster of a test's own: 6 redis-server processes (3 masters, 3 replicas) on free ports
 * in a temp dir, joined with `redis-cli --cluster create`. Fault tests and the chaos suite use it
 * to run the gateway on a cluster and to fail a master over mid-load; it never touches the shared
 * Redis on 6379.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../libs/devkit/processes.ts';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** One redis-server of the cluster. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** What a failover did: the master that owned the slot before and the node that owns it now. */
export interface FailoverResult {
  slot: number;
  from: ClusterNode;
  to: ClusterNode;
}

/** A running local cluster. */
export interface RedisCluster {
  /** All six nodes, masters and replicas. */
  nodes: ClusterNode[];
  /** `host:port,...` of every node, as REDIS_CLUSTER_NODES takes it. */
  nodesEnv: string;
  /** The slot of `key` (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The master that owns the slot of `key` now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** A master that does not own the slot of `key` (for a client pointed at a node that answers MOVED). */
  nodeNotOwning(key: string): Promise<ClusterNode>;
  /**
   * Fails over the master owning the slot of `key` (default `{bull}`, the queue's hash tag) and
   * resolves once a former replica owns the slot and every live node says cluster_state:ok.
   * `mode: 'graceful'` sends CLUSTER FAILOVER to a replica (no acknowledged write is lost);
   * `mode: 'kill'` SIGKILLs the master and waits for the cluster to promote its replica (the last
   * writes may be lost, as in a real crash). @defaultValue graceful
   */
  failover(key?: string, mode?: 'graceful' | 'kill'): Promise<FailoverResult>;
  /** Resolves once every live node says cluster_state:ok and agrees who owns every slot. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and deletes the directory. */
  cleanup(): Promise<void>;
}

/** Options of startRedisCluster. */
export interface RedisClusterOptions {
  /**
   * Milliseconds a node may be unreachable before the others count it as failed
   * (cluster-node-timeout): the floor of a `kill` failover's duration. Long enough that a busy
   * machine does not fail masters over on its own. @defaultValue 3000
   */
  nodeTimeoutMs?: number;
  /** Milliseconds to wait for the cluster to form, and for each failover. @defaultValue 30000 */
  readyTimeoutMs?: number;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} not reached within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type SlotsReply = Array<[number, number, [string, number, string?], ...Array<[string, number, string?]>]>;

/** Starts a 3-master, 3-replica cluster with no persistence on free 127.0.0.1 ports. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const admins = new Map<number, Redis>();
  const nodes: ClusterNode[] = [];

  const admin = (port: number): Redis => {
    let conn = admins.get(port);
    if (!conn) {
      // A plain connection to one node: the admin commands are about that node, never redirected.
      conn = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => 200, commandTimeout: 2000 });
      conn.on('error', () => undefined);
      admins.set(port, conn);
    }
    return conn;
  };
  const alive = () => nodes.filter((n) => children.has(n.port));
  const slots = async (port: number) => (await admin(port).call('CLUSTER', 'SLOTS')) as SlotsReply;

  // A test process that exits without cleanup() (a crash, a forgotten afterAll) takes its nodes along.
  const killAll = () => {
    for (const child of children.values()) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  const cleanup = async () => {
    process.off('exit', killAll);
    for (const conn of admins.values()) conn.disconnect();
    admins.clear();
    await Promise.all([...children.values()].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }));
    children.clear();
    rmSync(dir, { recursive: true, force: true });
  };

  const waitHealthy = async (timeoutMs = readyTimeoutMs) => {
    await until('cluster_state:ok on every node', timeoutMs, async () => {
      const live = alive();
      const infos = await Promise.all(live.map((n) => admin(n.port).call('CLUSTER', 'INFO') as Promise<string>));
      if (!infos.every((info) => info.includes('cluster_state:ok'))) return undefined;
      // Every node must agree on the owners and their replicas (gossip lags behind ROLE), or a
      // client may be sent back and forth and a failover may find no replica.
      const replies = await Promise.all(live.map((n) => slots(n.port)));
      const views = replies.map((reply) => reply.map(([a, b, ...owners]) => [a, b, ...owners.map((o) => o[1])].join(' ')).sort().join(','));
      const listed = new Set(replies[0]!.flatMap(([, , ...owners]) => owners.map((o) => o[1])));
      return views.every((v) => v === views[0]) && listed.size === live.length ? true : undefined;
    });
  };

  try {
    for (let i = 0; i < 6; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', HOST, '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 3000),
        '--save', '', '--appendonly', 'no', '--dir', nodeDir, '--loglevel', 'warning',
      ], { stdio: 'ignore' });
      children.set(port, child);
      child.once('exit', () => children.delete(port));
      nodes.push({ host: HOST, port });
    }
    await until('every node answering PING', readyTimeoutMs, async () => {
      const pongs = await Promise.all(nodes.map((n) => admin(n.port).ping()));
      return pongs.every((p) => p === 'PONG') ? true : undefined;
    });
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: readyTimeoutMs });
    await waitHealthy();
    // Replicas must be in sync before a graceful failover can promote one.
    await until('every replica in sync', readyTimeoutMs, async () => {
      const roles = await Promise.all(nodes.map((n) => admin(n.port).call('ROLE') as Promise<unknown[]>));
      const replicas = roles.filter((r) => r[0] === 'slave');
      return replicas.length === 3 && replicas.every((r) => r[3] === 'connected') ? true : undefined;
    });
  } catch (e) {
    await cleanup();
    throw e;
  }

  const slotOf = async (key: string) => Number(await admin(alive()[0]!.port).call('CLUSTER', 'KEYSLOT', key));
  const ownerOf = async (slot: number) => {
    const range = (await slots(alive()[0]!.port)).find(([a, b]) => a <= slot && slot <= b);
    if (!range) throw new Error(`Redis Cluster: no node owns slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { master: { host: HOST, port: Number(master[1]) }, replicas: replicas.map((r) => ({ host: HOST, port: Number(r[1]) })) };
  };

  return {
    nodes,
    nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    slotOf,
    async masterOf(key) {
      return (await ownerOf(await slotOf(key))).master;
    },
    async nodeNotOwning(key) {
      const owner = (await ownerOf(await slotOf(key))).master;
      const masters = (await slots(alive()[0]!.port)).map(([, , m]) => Number(m[1]));
      const other = masters.find((port) => port !== owner.port);
      if (other === undefined) throw new Error('Redis Cluster: every slot has one owner');
      return { host: HOST, port: other };
    },
    async failover(key = '{bull}', mode = 'graceful') {
      const slot = await slotOf(key);
      const { master: from, replicas } = await ownerOf(slot);
      const replica = replicas.find((r) => children.has(r.port));
      if (!replica) throw new Error(`Redis Cluster: the master of slot ${slot} has no live replica`);
      if (mode === 'kill') {
        const child = children.get(from.port);
        if (child) {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }
        admins.get(from.port)?.disconnect();
        admins.delete(from.port);
      } else {
        await admin(replica.port).call('CLUSTER', 'FAILOVER');
      }
      const to = await until(`a new owner of slot ${slot}`, readyTimeoutMs, async () => {
        const owner = (await ownerOf(slot)).master;
        const role = (await admin(owner.port).call('ROLE')) as unknown[];
        return owner.port !== from.port && role[0] === 'master' ? owner : undefined;
      });
      await waitHealthy();
      return { slot, from, to };
    },
    waitHealthy,
    cleanup,
  };
}
