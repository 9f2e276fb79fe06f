import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSystem, type RunningSystem } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUBY_DIR = join(import.meta.dirname, '../../clients/ruby');
const rubyInstalled = spawnSync('ruby', ['-v'], { stdio: 'ignore' }).status === 0;

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs the Ruby client's whole test suite (bin/test) with the given extra environment. */
function runRubyTests(env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ruby', ['bin/test', '--verbose'], { cwd: RUBY_DIR, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

if (!rubyInstalled) {
  test.skip('ruby not installed: Ruby client tests skipped', () => {});
} else {
  describe('the Ruby client against the real gateway', () => {
    const dbPath = join(tmpdir(), `e2e-ruby-${randomUUID()}.sqlite`);
    let system: RunningSystem | undefined;

    beforeAll(async () => {
      system = await startSystem({ env: { DATABASE_URL: dbPath, LOG_LEVEL: 'warn' } });
    });

    afterAll(async () => {
      await system?.stop();
      if (system) await obliterateQueues(REDIS_URL, system.queuePrefix);
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    });

    test('clients/ruby tests (webhook unit tests and gateway integration tests) pass', async () => {
      const { code, output } = await runRubyTests({ GATEWAY_URL: system!.apiUrl, GATEWAY_API_KEY: system!.apiKey });
      if (code !== 0) console.error(`Ruby client tests failed (exit ${code}):\n${output}`);
      expect(code, output).toBe(0);
      const summary = /(\d+) runs, (\d+) assertions, (\d+) failures, (\d+) errors, (\d+) skips/.exec(output);
      expect(summary, output).not.toBeNull();
      const [, runs, assertions, failures, errors, skips] = summary!.map(Number);
      expect(runs).toBeGreaterThan(0);
      expect(assertions).toBeGreaterThan(0);
      expect(failures).toBe(0);
      expect(errors).toBe(0);
      // The gateway's address was given, so the integration tests must have run, not skipped.
      expect(skips, output).toBe(0);
      expect(output).toMatch(/ClientTest#test_submit_and_wait_until_completed = [\d.]+ s = \./);
    });
  });
}
