/**
 * Vitest setup file: the processes a test file starts write their telemetry and audit files to a
 * temp directory of that file (removed afterwards), not to the repository's ./data/telemetry.
 * A TELEMETRY_DIR set by whoever runs the tests is honoured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

if (process.env.TELEMETRY_DIR === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-test-telemetry-'));
  process.env.TELEMETRY_DIR = dir;
  // Registered first, so it runs after the file's own afterAll hooks have stopped its processes.
  afterAll(() => {
    delete process.env.TELEMETRY_DIR;
    rmSync(dir, { recursive: true, force: true });
  });
}
