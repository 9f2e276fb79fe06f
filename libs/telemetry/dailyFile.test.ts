import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { DailyJsonlAppender, dailyFileName, prepareTelemetryDir } from './dailyFile.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'daily-jsonl-'));
  dirs.push(dir);
  return join(dir, 'nested', 'telemetry');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('daily JSONL files', () => {
  test('are named by kind and UTC date', () => {
    expect(dailyFileName('jobs', new Date('2026-12-02T00:00:00.000Z'))).toBe('jobs-2026-12-02.jsonl');
    expect(dailyFileName('audit', new Date('2026-12-01T23:59:59.999Z'))).toBe('audit-2026-12-01.jsonl');
    // 01:30 in UTC+2 is still the previous day in UTC.
    expect(dailyFileName('jobs', new Date('2026-03-01T01:30:00+02:00'))).toBe('jobs-2026-02-28.jsonl');
  });

  test('roll over at UTC midnight; the directory is created; close flushes', async () => {
    const dir = tempDir();
    let now = new Date('2026-12-01T23:59:59.900Z');
    const appender = new DailyJsonlAppender(dir, 'jobs', { flushIntervalMs: 60_000, now: () => now });
    appender.append({ n: 1 });
    now = new Date('2026-12-02T00:00:00.100Z');
    appender.append({ n: 2, text: 'a\nb' });
    await appender.close();
    expect(readdirSync(dir).sort()).toEqual(['jobs-2026-12-01.jsonl', 'jobs-2026-12-02.jsonl']);
    expect(lines(join(dir, 'jobs-2026-12-01.jsonl'))).toEqual([{ n: 1 }]);
    expect(lines(join(dir, 'jobs-2026-12-02.jsonl'))).toEqual([{ n: 2, text: 'a\nb' }]);
    expect(appender.append({ n: 3 })).toBe(false);
  });

  test('many appenders on one file keep every line whole, each in its order', async () => {
    const dir = tempDir();
    const appenders = Array.from({ length: 4 }, () => new DailyJsonlAppender(dir, 'jobs', { flushBytes: 4096 }));
    const pad = 'x'.repeat(300);
    for (let i = 0; i < 500; i++) appenders.forEach((a, w) => a.append({ w, i, pad }));
    await Promise.all(appenders.map((a) => a.close()));
    const [file] = readdirSync(dir);
    const all = lines(join(dir, file!));
    expect(all).toHaveLength(2000);
    for (let w = 0; w < 4; w++) expect(all.filter((l) => l.w === w).map((l) => l.i)).toEqual([...Array(500).keys()]);
  });

  test('a full buffer drops lines and says how many', async () => {
    const dir = tempDir();
    const problems: unknown[] = [];
    const appender = new DailyJsonlAppender(dir, 'jobs', { maxBufferedLines: 2, flushIntervalMs: 60_000, onProblem: (p) => problems.push(p) });
    expect([appender.append({ n: 1 }), appender.append({ n: 2 }), appender.append({ n: 3 })]).toEqual([true, true, false]);
    await appender.close();
    expect(problems).toEqual([{ kind: 'dropped', lines: 1 }]);
    expect(lines(join(dir, readdirSync(dir)[0]!))).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('a write that fails is reported, not thrown', async () => {
    const problems: { kind: string }[] = [];
    // A directory path below a regular file can never be created.
    const dir = tempDir();
    const blocker = new DailyJsonlAppender(dir, 'x', { flushIntervalMs: 0 });
    blocker.append({});
    await blocker.close();
    const appender = new DailyJsonlAppender(join(dir, readdirSync(dir)[0]!, 'sub'), 'jobs', { flushIntervalMs: 0, onProblem: (p) => problems.push(p) });
    appender.append({ n: 1 });
    await appender.close();
    expect(problems.map((p) => p.kind)).toEqual(['write_failed']);
  });

  test('prepareTelemetryDir creates the directory, or says in one error why it cannot', async () => {
    const dir = tempDir();
    await prepareTelemetryDir(dir);
    expect(readdirSync(dir)).toEqual([]);
    const blocker = new DailyJsonlAppender(dir, 'x', { flushIntervalMs: 0 });
    blocker.append({});
    await blocker.close();
    await expect(prepareTelemetryDir(join(dir, readdirSync(dir)[0]!, 'sub'))).rejects.toMatchObject({ code: 'telemetry_dir_unwritable' });
  });
});
