// The report thread: the same report as in process for a seeded store file, typed errors, and the
// bounded queue, timeout and crash answers (503s the API passes on).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../libs/config/load.ts';
import { buildReport, type ReportRequest } from '../../libs/experiments/reportRequest.ts';
import { ReportThread } from '../../libs/experiments/reportThread.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { seedReportStore } from '../../scripts/bench/reportSeed.ts';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), `report-thread-${randomUUID().slice(0, 8)}-`));
const file = join(dir, 'seeded.sqlite');
const experiment = loadConfig('config').abTests.experiments.career_model_ab!;
const request = (overrides: Partial<ReportRequest> = {}): ReportRequest => ({
  clientId: 'bench',
  experimentId: 'career_model_ab',
  experiment,
  since: '2026-02-01T00:00:00.000Z',
  now: NOW.toISOString(),
  ...overrides,
});
const threads: ReportThread[] = [];
const thread = (options: Partial<ConstructorParameters<typeof ReportThread>[0]> = {}) => {
  const t = new ReportThread({ databaseUrl: file, ...options });
  threads.push(t);
  return t;
};

beforeAll(async () => {
  await seedReportStore({ path: file, jobs: 3000, days: 20, now: NOW, seed: 7 });
});
afterAll(async () => {
  await Promise.all(threads.map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ReportThread', () => {
  test('answers the same report as the analysis in process, for one client and for every client', async () => {
    const store = new SqliteJobStore(file);
    await store.init();
    try {
      const reports = thread();
      for (const clientId of ['bench', null]) {
        const expected = await buildReport(store, request({ clientId }));
        expect(expected.variants.reduce((n, v) => n + v.jobs, 0)).toBeGreaterThan(2000);
        expect(await reports.run(request({ clientId }))).toEqual(expected);
      }
    } finally {
      await store.close();
    }
  });

  test("the thread's errors come back typed, with their code and status", async () => {
    // A directory that is a file: the thread cannot open its store.
    writeFileSync(join(dir, 'not-a-dir'), '');
    const reports = thread({ databaseUrl: join(dir, 'not-a-dir', 'x.sqlite') });
    await expect(reports.run(request())).rejects.toMatchObject({ name: 'GatewayError', code: 'store_open_failed', status: 500 });
  });

  test('beyond the waiting bound: 503 report_busy with Retry-After, and the others are still answered', async () => {
    const reports = thread({ maxWaiting: 1 });
    const first = reports.run(request());
    const second = reports.run(request());
    await expect(reports.run(request())).rejects.toMatchObject({ code: 'report_busy', status: 503, retryAfterSeconds: 5 });
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
  });

  test('a report that takes too long: 503 report_timeout', async () => {
    const reports = thread({ timeoutMs: 1 });
    await expect(reports.run(request())).rejects.toMatchObject({ code: 'report_timeout', status: 503 });
  });

  test('a crashed thread: its request answered 503 report_failed, the next one gets a new thread', async () => {
    const crashing = join(dir, 'crashing.mjs');
    writeFileSync(crashing, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('boom'); });\n");
    const reports = thread({ entry: pathToFileURL(crashing) });
    await expect(reports.run(request())).rejects.toMatchObject({ code: 'report_failed', status: 503, message: expect.stringContaining('boom') });
    await expect(reports.run(request())).rejects.toMatchObject({ code: 'report_failed' });
  });

  test('closed (API shutdown): waiting requests answered 503, new ones refused', async () => {
    const reports = thread();
    const answered = expect(reports.run(request())).rejects.toMatchObject({ code: 'shutting_down', status: 503 });
    await reports.close();
    await answered;
    await expect(reports.run(request())).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
