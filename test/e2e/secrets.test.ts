/**
 * Secrets never reach an output line, and a bad start prints one line and exits 1. Runs the
 * gateway on a private, password-protected redis-server with every secret variable set to a
 * distinctive random value, makes it work and fail, and greps every line every process printed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { tempConfig, type TempConfig } from '../../libs/config/tempConfig.ts';
import { ROOT, freePort } from '../../libs/devkit/processes.ts';
import { startSystem } from '../../libs/devkit/system.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { eventually } from '../helpers/gateway.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/privateRedis.ts';

const token = (prefix: string) => `${prefix}${randomBytes(18).toString('base64url')}`;
const SECRETS = {
  redisPassword: token('rpw-'),
  wrongRedisPassword: token('wrongpw-'),
  rotatedRedisPassword: token('rotated-'),
  mongoPassword: token('mpw-'),
  apiKey: token('gk_a'),
  otherApiKey: token('gk_b'),
  webhookKey: randomBytes(24).toString('base64'),
  adminToken: token('adm-'),
  viewerToken: token('view-'),
  openaiKey: token('sk-oa-'),
  anthropicKey: token('sk-ant-'),
};
const WEBHOOK_SECRET = `whsec_${SECRETS.webhookKey}`;

/** Every line printed by any process of this file, with the process that printed it. */
const lines: Array<{ process: string; line: string }> = [];
let redis: PrivateRedis;
let config: TempConfig;
let receiver: HttpServer;
let receiverPort: number;
const dbPaths: string[] = [];

const newDbPath = () => {
  const path = join(tmpdir(), `e2e-secrets-${randomUUID()}.sqlite`);
  dbPaths.push(path);
  return path;
};

/** The environment of every process: each secret variable set, Redis with its password. */
const secretEnv = (): NodeJS.ProcessEnv => ({
  REDIS_URL: redis.url,
  DATABASE_URL: newDbPath(),
  CONFIG_DIR: config.dir,
  GATEWAY_QUEUE_PREFIX: `gw-${randomUUID().slice(0, 8)}`,
  GATEWAY_API_KEYS: `demo:${SECRETS.apiKey},other:${SECRETS.otherApiKey}`,
  GATEWAY_WEBHOOK_SECRETS: `demo:${WEBHOOK_SECRET}`,
  GATEWAY_ADMIN_TOKEN: SECRETS.adminToken,
  GATEWAY_VIEWER_TOKEN: SECRETS.viewerToken,
  OPENAI_API_KEY: SECRETS.openaiKey,
  ANTHROPIC_API_KEY: SECRETS.anthropicKey,
  GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1',
  GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '100,100',
});

const leaks = (): Array<{ process: string; line: string; secret: string }> =>
  lines.flatMap(({ process, line }) => Object.entries(SECRETS).filter(([, v]) => line.includes(v)).map(([secret]) => ({ process, line, secret })));

beforeAll(async () => {
  redis = await startPrivateRedis({ password: SECRETS.redisPassword });
  config = tempConfig();
  receiver = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverPort = (receiver.address() as { port: number }).port;
});

afterAll(async () => {
  await redis?.cleanup();
  config?.cleanup();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  for (const path of dbPaths) for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
});

describe('secrets never reach an output line', () => {
  test('a run that completes jobs, delivers a webhook and loses Redis for a while prints none of them', async () => {
    const env = { ...secretEnv(), LOG_LEVEL: 'debug' };
    const system = await startSystem({ env, onLine: (process, line) => lines.push({ process, line }) });
    try {
      const client = new GatewayClient(system.apiUrl, SECRETS.apiKey);
      const ids = await Promise.all([1, 2, 3].map((i) => client.submit(careerSubmission(i))));
      ids.push(await client.submit({ ...careerSubmission(4), callback_url: `http://127.0.0.1:${receiverPort}/hooks/llm` }));
      const done = await client.waitForAll(ids, { timeoutMs: 60_000 });
      expect([...done.values()].map((j) => j.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      const webhookStatus = async () => ((await client.get(ids[3]!)).body.webhook as { status?: string } | null | undefined)?.status;
      await eventually(async () => (await webhookStatus()) === 'delivered', 30_000, 'the webhook delivery');
      // Credentials on the request path: the operator tokens, another client's key, a wrong key.
      for (const bearer of [SECRETS.adminToken, SECRETS.viewerToken, SECRETS.otherApiKey]) {
        await fetch(`${system.apiUrl}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${bearer}` } }).then((r) => r.arrayBuffer());
      }
      expect((await new GatewayClient(system.apiUrl, SECRETS.otherApiKey).get(ids[0]!)).status).toBe(404);

      // SIGHUP reloads the config instead of ending the process (Node's default).
      for (const p of system.processes) p.child.kill('SIGHUP');
      await eventually(async () => lines.filter(({ line }) => line.includes('SIGHUP: reloading the config')).length >= 2, 10_000, 'the reloads on SIGHUP');
      expect((await fetch(`${system.apiUrl}/readyz`)).status).toBe(200);
      expect(system.processes.map((p) => p.child.exitCode)).toEqual(system.processes.map(() => null));

      // Redis goes away: connection errors get logged by every process that uses it.
      const before = lines.length;
      await redis.stop();
      await fetch(`${system.apiUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      await fetch(`${system.apiUrl}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRETS.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(careerSubmission(5)),
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      await eventually(async () => lines.slice(before).some(({ line }) => /ECONNREFUSED|Connection is closed/.test(line)), 20_000, 'a logged Redis connection error');
      // It comes back with a rotated password: every reconnection's AUTH (whose error carries the
      // command's arguments, the old password among them) is refused and logged.
      const refusedFrom = lines.length;
      await redis.stop();
      await redis.start(SECRETS.rotatedRedisPassword);
      await eventually(async () => lines.slice(refusedFrom).some(({ line }) => /WRONGPASS|NOAUTH/.test(line)), 20_000, 'a logged authentication error');
      await redis.stop();
      await redis.start();
      await eventually(async () => (await fetch(`${system.apiUrl}/readyz`)).status === 200, 30_000, 'the API ready again');
    } finally {
      await system.stop();
      for (const p of system.processes) lines.push(...p.output().split('\n').map((line) => ({ process: `${p.name} (output)`, line })));
    }
    expect(lines.length).toBeGreaterThan(10);
    expect(leaks()).toEqual([]);
  });
});

/** Runs apps/<name>/main.ts until it exits (or `timeoutMs`), returning its exit code and lines. */
async function runToExit(name: 'api' | 'worker' | 'simulator', env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<{ code: number | null; out: string[] }> {
  const child = spawn(process.execPath, [`${ROOT}apps/${name}/main.ts`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr.on('data', (c: Buffer) => (text += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  const out = text.split('\n').filter((l) => l.trim() !== '');
  lines.push(...out.map((line) => ({ process: `${name} (bad start)`, line })));
  return { code, out };
}

/** A TCP port held by a listener of this test, to make a process's port "already in use". */
async function holdPort(): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server };
}

describe('a bad start prints one line naming the problem and exits 1', () => {
  const cases: Array<[string, 'api' | 'worker' | 'simulator', () => Promise<{ env: NodeJS.ProcessEnv; release?: () => void }>, string, RegExp]> = [
    ['an unreachable MongoDB whose URL has a password', 'api', async () => ({ env: { DATABASE_URL: `mongodb://gw:${SECRETS.mongoPassword}@127.0.0.1:${await freePort()}/db?serverSelectionTimeoutMS=500` } }), 'store_open_failed', /MongoDB/],
    ['a wrong Redis password', 'api', async () => ({ env: { REDIS_URL: `redis://:${SECRETS.wrongRedisPassword}@127.0.0.1:${redis.port}` } }), 'redis_auth_failed', /redis:\/\/\*\*\*@127\.0\.0\.1/],
    ['a Redis that is not there, with a password', 'api', async () => ({ env: { REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:${await freePort()}` } }), 'redis_unreachable', /redis:\/\/\*\*\*@127\.0\.0\.1/],
    ['PORT already in use', 'api', async () => {
      const held = await holdPort();
      return { env: { PORT: String(held.port) }, release: () => held.server.close() };
    }, 'port_in_use', /set PORT to a free port/],
    ['PORT=abc', 'api', async () => ({ env: { PORT: 'abc' } }), 'invalid_env', /PORT/],
    ['WORKER_CONCURRENCY=-1', 'worker', async () => ({ env: { WORKER_CONCURRENCY: '-1' } }), 'invalid_env', /WORKER_CONCURRENCY/],
    ['a malformed GATEWAY_API_KEYS', 'api', async () => ({ env: { GATEWAY_API_KEYS: `demo${SECRETS.apiKey}` } }), 'invalid_env', /GATEWAY_API_KEYS/],
    ['a config file that is not JSON', 'worker', async () => {
      const broken = tempConfig();
      broken.write('rate_limits.json', '{ "monthly_budget_usd": ');
      return { env: { CONFIG_DIR: broken.dir }, release: () => broken.cleanup() };
    }, 'invalid_config', /rate_limits\.json/],
    ['a config file that breaks its schema', 'api', async () => {
      const broken = tempConfig();
      broken.edit('provider_settings.json', (json) => (json.providers = 'none'));
      return { env: { CONFIG_DIR: broken.dir }, release: () => broken.cleanup() };
    }, 'invalid_config', /provider_settings\.json/],
    ['SIMULATOR_PORT already in use', 'simulator', async () => {
      const held = await holdPort();
      return { env: { SIMULATOR_PORT: String(held.port) }, release: () => held.server.close() };
    }, 'port_in_use', /SIMULATOR_PORT/],
  ];

  test.each(cases)('%s (%s)', async (_what, app, setup, code, detail) => {
    const { env, release } = await setup();
    try {
      const { code: exitCode, out } = await runToExit(app, { ...secretEnv(), PORT: String(await freePort()), ...env });
      expect(exitCode).toBe(1);
      expect(out).toHaveLength(1);
      const line = JSON.parse(out[0]!) as { level: number; code: string; msg: string; stack?: string };
      expect(line).toMatchObject({ level: 60, code, msg: expect.stringMatching(new RegExp(`^${app}: ${code}: `)) });
      expect(line.msg).toMatch(detail);
      expect(line.stack).toBeUndefined();
    } finally {
      release?.();
    }
    expect(leaks()).toEqual([]);
  });
});
