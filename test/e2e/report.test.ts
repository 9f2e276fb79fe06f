/**
 * The path an operator follows: `npm run demo` fills a store (with simulated ratings), then
 * `npm run report` reads it back as JSON and as tables, as separate processes.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT } from '../../libs/devkit/processes.ts';
import type { ExperimentReport } from '../../libs/experiments/reportTypes.ts';

const run = promisify(execFile);
const dir = join(tmpdir(), `gw-report-${randomUUID()}`);
const database = join(dir, 'demo.sqlite');

/** `npm run <script> -- <args>` in the repository, with the store in the temp directory. */
async function npm(script: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024, timeout: 150_000 });
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const demo = await npm('demo', ['--jobs', '60'], { DATABASE_URL: database });
  expect(demo.stdout).toContain('60 of 60 jobs completed');
  expect(demo.stdout).toContain('The ratings are SIMULATED');
  expect(demo.stdout).toContain('See the A/B report: npm run report -- career_model_ab');
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run report after npm run demo', () => {
  test('--format json answers the whole report', async () => {
    const { stdout, stderr } = await npm('report', ['career_model_ab', '--database', database, '--format', 'json']);
    expect(stderr).toContain(`Reading ${database} (--database), every client`);
    const report = JSON.parse(stdout) as ExperimentReport;
    expect(report.experiment).toBe('career_model_ab');
    expect(report.variants.map((v) => v.variant)).toEqual(['gpt4', 'claude']);
    expect(report.variants.reduce((n, v) => n + v.jobs, 0) + report.holdout_jobs + report.unassigned_jobs).toBe(60);
    expect(report.variants.reduce((n, v) => n + v.rating.n, 0)).toBeGreaterThan(0);
    expect(report.comparisons[0]).toMatchObject({ a: 'gpt4', b: 'claude' });
    expect(report.comparisons[0]!.tests.map((t) => t.metric)).toContain('rating');
    expect(report.sample_ratio).toMatchObject({ test: 'chi_square', counted: 'units' });
    expect(report.verdict.text.length).toBeGreaterThan(0);
    expect(report.categories.map((c) => c.field)).toEqual(expect.arrayContaining(['sector', 'degree_level', 'experience_band']));
    expect(report.cost.by_variant.reduce((s, v) => s + v.usd, 0)).toBeGreaterThan(0);
    expect(report.cost.time_ms.total.n).toBe(60);
  });

  test('--format table prints the verdict, the variant table and the per-category tables', async () => {
    const { stdout } = await npm('report', ['career_model_ab', '--database', database]);
    expect(stdout.indexOf('Verdict')).toBeGreaterThan(0);
    expect(stdout.indexOf('Verdict')).toBeLessThan(stdout.indexOf('Variants'));
    expect(stdout).toMatch(/^variant\s+gpt4\s+claude$/m);
    expect(stdout).toMatch(/^completion rate\s/m);
    expect(stdout).toContain('gpt4 vs claude');
    expect(stdout).toContain('By sector');
    expect(stdout).toContain('By experience band');
    expect(stdout).toMatch(/^healthcare\s+\d+\s+\d+/m);
    expect(stdout).toContain('projected month-end');
  });

  test('an unknown experiment exits 2 naming the known ones; a missing store exits 1', async () => {
    await expect(npm('report', ['nope', '--database', database])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Known experiments: career_model_ab') });
    await expect(npm('report', ['career_model_ab', '--database', join(dir, 'missing.sqlite')])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('No result store at') });
  });
});
