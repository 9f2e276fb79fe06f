/**
 * HOST decides which interfaces the API listens on, and its ready line says what was really bound.
 * The check from another interface needs a non-loopback IPv4 address on this machine; without one
 * that part is skipped with a notice.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { freePort, startApp, type AppProcess } from '../../libs/devkit/processes.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { readRedisTarget } from '../../libs/config/env.ts';

const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
if (!outside) console.warn('NOTICE: no non-loopback IPv4 address here; the API host test checks only the log line and loopback.');

let api: AppProcess | undefined;
const files: string[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await api?.stop();
  api = undefined;
  for (const f of files.splice(0)) rmSync(f, { recursive: true, force: true });
  for (const p of prefixes.splice(0)) await obliterateQueues(readRedisTarget(), p);
});

/** Whether a GET to /healthz at `host:port` is answered within 2 s. */
async function answers(host: string, port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function startApi(host: string | undefined): Promise<{ port: number; ready: Record<string, unknown> }> {
  const port = await freePort();
  const dir = join(tmpdir(), `gw-host-${randomUUID()}`);
  const prefix = `host-${randomUUID().slice(0, 8)}`;
  files.push(dir);
  prefixes.push(prefix);
  api = await startApp('api', {
    env: { PORT: String(port), HOST: host ?? '', DATABASE_URL: join(dir, 'gateway.sqlite'), TELEMETRY_DIR: join(dir, 'telemetry'), GATEWAY_QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' },
  });
  const line = api.output().split('\n').find((l) => l.includes('api listening'));
  return { port, ready: JSON.parse(line ?? '{}') as Record<string, unknown> };
}

describe('HOST', () => {
  test('unset: loopback only, and the ready line says so', async () => {
    const { port, ready } = await startApi(undefined);
    expect(ready).toMatchObject({ host: '127.0.0.1', port, allInterfaces: false, msg: `api listening on http://127.0.0.1:${port}` });
    expect(await answers('127.0.0.1', port)).toBe(true);
    if (outside) expect(await answers(outside, port)).toBe(false);
  });

  test('0.0.0.0: every interface, and the ready line says so', async () => {
    const { port, ready } = await startApi('0.0.0.0');
    expect(ready).toMatchObject({ host: '0.0.0.0', port, allInterfaces: true, msg: `api listening on http://0.0.0.0:${port}` });
    expect(await answers('127.0.0.1', port)).toBe(true);
    if (outside) expect(await answers(outside, port)).toBe(true);
  });
});
