import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { createLogger } from './logger.ts';
import { createRedactor } from './redact.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

test('every line is scrubbed: message, bindings, fields and error stacks', async () => {
  dir = mkdtempSync(join(tmpdir(), 'logger-'));
  const file = join(dir, 'out.log');
  const log = createLogger('t', 'info', { fd: openSync(file, 'w'), redactor: createRedactor(['sk-known-secret']) });
  const child = log.child({ url: 'redis://:childpw@h:6379' });
  child.info({ key: 'sk-known-secret' }, 'connecting to mongodb://u:msgpw@h/db');
  child.error({ err: new Error('failed at rediss://u:errpw@h:1') }, 'boom');
  // The destination writes asynchronously, like the processes' own.
  const text = await vi.waitFor(() => {
    const written = readFileSync(file, 'utf8');
    expect(written.split('\n')).toHaveLength(3);
    return written;
  });
  const lines = text.trim().split('\n');
  for (const secret of ['childpw', 'msgpw', 'errpw', 'sk-known-secret']) expect(text).not.toContain(secret);
  const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(first).toMatchObject({ url: 'redis://***@h:6379', key: '[redacted]', msg: 'connecting to mongodb://***@h/db' });
  expect(second).toMatchObject({ msg: 'boom', err: { message: 'failed at rediss://***@h:1' } });
});
