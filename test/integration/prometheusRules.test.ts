// promtool on the shipped monitoring files: the rules parse, their unit tests pass, the example
// configuration loads, and every dashboard query is valid PromQL. Skipped with a notice where
// Debian's prometheus package is missing.
import { afterAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { PROMTOOL, noticeMissingPrometheus } from '../helpers/prometheus.ts';
import { PROMETHEUS_DIR, allPanels, grafanaToPromql, readDashboard } from '../helpers/opsFiles.ts';

const run = promisify(execFile);
noticeMissingPrometheus('promtool check/test of ops/prometheus');

/** promtool's exit status and output (stdout and stderr together). */
async function promtool(args: string[], cwd = PROMETHEUS_DIR): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL!, args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe.skipIf(!PROMTOOL)('promtool on ops/prometheus', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'gateway-promtool-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('check rules: alerts.yml is valid', async () => {
    const { code, output } = await promtool(['check', 'rules', 'alerts.yml']);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });

  test('test rules: every unit test in alerts.test.yml passes', async () => {
    const { code, output } = await promtool(['test', 'rules', 'alerts.test.yml']);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  test('check config: the example configuration and the rules it loads are valid', async () => {
    const { code, output } = await promtool(['check', 'config', 'prometheus.example.yml']);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS: 1 rule files found');
  });

  test('a broken rule is caught (the checks above can fail)', async () => {
    const broken = path.join(tmp, 'broken.yml');
    writeFileSync(broken, stringify({ groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(rate(gateway_jobs_finished_total[5m])' }] }] }));
    const { code } = await promtool(['check', 'rules', broken]);
    expect(code).not.toBe(0);
  });

  test('every dashboard query is valid PromQL', async () => {
    // promtool parses queries offline only inside rule files: each query becomes a recording rule.
    const rules = allPanels(readDashboard().panels).flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({ record: `dashboard:panel_${panel.id}:${t.refId.toLowerCase()}`, expr: grafanaToPromql(t.expr) })),
    );
    expect(rules.length).toBeGreaterThan(20);
    const file = path.join(tmp, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { code, output } = await promtool(['check', 'rules', file]);
    expect(code, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
