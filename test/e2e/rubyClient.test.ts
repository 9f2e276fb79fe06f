import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Runs `command` synchronously (at most a minute) and answers its exit code and output. */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): RunResult {
  const result = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

if (!rubyInstalled) {
  test.skip('ruby not installed: Ruby client tests skipped', () => {});
} else {
  test('the gem builds, installs, and loads from its own files alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ruby-gem-'));
    try {
      const gemFile = join(dir, 'llm_gateway.gem');
      const built = run('gem', ['build', 'llm_gateway.gemspec', '--output', gemFile], { cwd: RUBY_DIR });
      expect(built.code, built.output).toBe(0);
      const home = join(dir, 'home');
      const installed = run('gem', ['install', '--local', '--no-document', '--install-dir', home, gemFile], { cwd: dir });
      expect(installed.code, installed.output).toBe(0);
      // Run outside the source tree, so only the packaged files can be found.
      const script = 'gem "llm_gateway"; require "llm_gateway"; LlmGateway::Client.instance_method(:search); LlmGateway::Webhook; print LlmGateway::VERSION';
      const loaded = run('ruby', ['-e', script], { cwd: dir, env: { GEM_HOME: home, GEM_PATH: home, RUBYLIB: '', RUBYOPT: '' } });
      expect(loaded.code, loaded.output).toBe(0);
      expect(loaded.output).toMatch(/^\d+\.\d+\.\d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

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
      expect(output).toMatch(/ClientTest#test_search_finds_a_users_jobs_newest_first_across_pages = [\d.]+ s = \./);
    });
  });
}
