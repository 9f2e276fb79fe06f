import { randomUUID } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { SqliteJobStore } from './sqlite.ts';
import { startCheckpoints } from './sqliteCheckpoint.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';

test('background checkpoints copy the log into the file beside a writer that keeps its connection open', async () => {
  const file = join(tmpdir(), `checkpoint-${randomUUID()}.sqlite`);
  const store = new SqliteJobStore(file);
  await store.init();
  const checkpoints = startCheckpoints(file, { intervalMs: 20 });
  try {
    const before = statSync(file).size;
    // Fewer pages than the writer's own threshold (1000): without the thread they would stay in the log.
    await store.saveMany(Array.from({ length: 200 }, () => makeJobRecord({ metadata: { pad: 'x'.repeat(500) } })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statSync(file).size).toBeGreaterThan(before + 100_000);
  } finally {
    checkpoints.stop();
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
});
