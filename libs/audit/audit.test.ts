import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../errors/index.ts';
import type { GatewayConfig } from '../config/types.ts';
import { AuditLog, configReloadEntry } from './auditLog.ts';
import { LoginMemory } from './logins.ts';

describe('audit log', () => {
  test('writes one line per entry with the fixed fields, in its own daily file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    try {
      const audit = new AuditLog(dir, { now: () => new Date('2026-12-02T01:02:03.000Z') });
      audit.record({ actor: 'admin', action: 'webhook_replay', target: 'job-1', outcome: 'success', ip: '127.0.0.1', request_id: 'r-1', details: { webhook_id: 'msg_job-1' } });
      await audit.close();
      const lines = readFileSync(join(dir, 'audit-2026-12-02.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
      expect(lines).toEqual([{ ts: '2026-12-02T01:02:03.000Z', actor: 'admin', action: 'webhook_replay', target: 'job-1', outcome: 'success', ip: '127.0.0.1', request_id: 'r-1', details: { webhook_id: 'msg_job-1' } }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a config reload says what changed, or why it was refused', () => {
    const previous = { rateLimits: { budgets: { monthly_usd: 5000 } } } as unknown as GatewayConfig;
    const config = { rateLimits: { budgets: { monthly_usd: 4000 } } } as unknown as GatewayConfig;
    expect(configReloadEntry({ applied: true, config, previous }, '/etc/gw', 'api')).toMatchObject({
      actor: 'config_dir',
      action: 'config_reload',
      target: '/etc/gw',
      outcome: 'applied',
      details: { process: 'api', changes: [{ path: 'rateLimits.budgets.monthly_usd', change: 'changed', from: 5000, to: 4000 }], omitted: 0 },
    });
    const error = new GatewayError('invalid_config', 'rate_limits.json: /budgets must be object', { details: [{ path: '/budgets', message: 'must be object' }] });
    expect(configReloadEntry({ applied: false, error }, '/etc/gw', 'api')).toMatchObject({
      outcome: 'refused',
      details: { error: { code: 'invalid_config', message: 'rate_limits.json: /budgets must be object', details: [{ path: '/budgets', message: 'must be object' }] } },
    });
  });

  test('a successful login is recorded once per address per window, with bounded memory', () => {
    const logins = new LoginMemory({ windowMs: 1000, maxEntries: 2 });
    expect([logins.shouldRecord('a', 0), logins.shouldRecord('a', 999), logins.shouldRecord('b', 999), logins.shouldRecord('a', 1000)]).toEqual([true, false, true, true]);
    logins.shouldRecord('c', 1001);
    // 'b' was the oldest when 'c' came: forgotten, so recorded again.
    expect(logins.shouldRecord('b', 1002)).toBe(true);
  });
});
