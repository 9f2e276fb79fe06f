import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey } from './apiKeys.ts';
import { loadApiKeys } from './load.ts';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const file = join(tmpdir(), `gateway-keys-${randomUUID()}.txt`);

describe('loadApiKeys', () => {
  afterAll(() => rm(file, { force: true }));

  it('uses the plain keys when no file is named', async () => {
    const registry = await loadApiKeys({ apiKeys: [{ clientId: 'dev', key: KEY_A }], apiKeysFile: undefined });
    expect(registry.authenticate(`Bearer ${KEY_A}`)).toBe('dev');
  });

  it('merges the plain keys with the hash file', async () => {
    await writeFile(file, `# prod\nprod:sha256:${hashApiKey(KEY_B)}\n`);
    const registry = await loadApiKeys({ apiKeys: [{ clientId: 'dev', key: KEY_A }], apiKeysFile: file });
    expect(registry.size).toBe(2);
    expect(registry.authenticate(`Bearer ${KEY_B}`)).toBe('prod');
  });

  it('refuses an unreadable file with api_key_file_unreadable', async () => {
    await expect(loadApiKeys({ apiKeys: [], apiKeysFile: join(tmpdir(), `missing-${randomUUID()}`) })).rejects.toMatchObject({
      code: 'api_key_file_unreadable',
    });
  });
});
