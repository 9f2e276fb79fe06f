/**
 * `npm start` runs the simulator, a worker and the API as its children: a SIGTERM or SIGINT sent
 * to npm reaches them all, npm waits for them, and none is left behind (not even one still
 * starting when the signal came).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ROOT, freePort } from '../../libs/devkit/processes.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { readRedisTarget } from '../../libs/config/env.ts';
import { eventually } from '../helpers/gateway.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts `npm start` on free ports; collects the pids its apps log. */
async function npmStart() {
  const simulatorPort = await freePort();
  const prefix = `start-${randomUUID().slice(0, 8)}`;
  const dir = join(tmpdir(), `gw-start-${randomUUID()}`);
  const env = {
    ...process.env,
    PORT: String(await freePort()),
    SIMULATOR_PORT: String(simulatorPort),
    OPENAI_BASE_URL: `http://127.0.0.1:${simulatorPort}/v1`,
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${simulatorPort}`,
    WORKER_METRICS_PORT: '0',
    WORKER_SHUTDOWN_GRACE_MS: '5000',
    GATEWAY_QUEUE_PREFIX: prefix,
    DATABASE_URL: join(dir, 'gateway.sqlite'),
    TELEMETRY_DIR: join(dir, 'telemetry'),
    LOG_LEVEL: 'info',
  };
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const pids = new Map<string, number>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const m of output.matchAll(/"process":"(api|worker|simulator)","pid":(\d+)/g)) pids.set(m[1]!, Number(m[2]));
  };
  npm.stdout.on('data', onData);
  npm.stderr.on('data', onData);
  const exited = once(npm, 'exit');
  cleanups.push(async () => {
    // Whatever a failed test left: end it by pid, then the keys and files of this run.
    for (const pid of [npm.pid!, ...pids.values()]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await obliterateQueues(readRedisTarget(), prefix).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return { npm, pids, exited, output: () => output };
}

describe('npm start', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('forwards %s to its children and waits for them to exit', async (signal) => {
    const run = await npmStart();
    await eventually(async () => run.output().includes('Ready: API on'), 90_000, `npm start to be ready:\n${run.output()}`);
    expect([...run.pids.keys()].sort()).toEqual(['api', 'simulator', 'worker']);
    for (const pid of run.pids.values()) expect(isAlive(pid)).toBe(true);

    run.npm.kill(signal);
    const [code] = await run.exited;
    // npm returned only after its children were gone.
    const left = [...run.pids].filter(([, pid]) => isAlive(pid)).map(([name]) => name);
    expect(left, `children left running after ${signal}:\n${run.output()}`).toEqual([]);
    expect(code).toBe(0);
    expect(run.output()).toMatch(/"process":"worker".*"msg":"shutting down"/);
  });

  test('a SIGTERM while the apps are still starting leaves none behind', async () => {
    const run = await npmStart();
    await eventually(async () => run.pids.has('simulator'), 60_000, 'the simulator to start');
    run.npm.kill('SIGTERM');
    await run.exited;
    // The worker may have been spawned a moment before the signal and logged nothing yet: look for any child of this run.
    await eventually(async () => [...run.pids.values()].every((pid) => !isAlive(pid)), 5000, 'every child to be gone');
    expect(run.output()).not.toContain('Ready: API on');
  });
});
