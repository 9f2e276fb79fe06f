/**
 * The configuration the bench runs the gateway with: a temp copy of config/ whose rate limits are
 * raised out of the way (reads too: the report section polls 100 times a second). The shipped limits (600 submissions a minute per client, 500 + 1,000
 * provider calls a minute) would hold intake to 10 req/s and the pipeline to 25 jobs/s, which
 * measures the configuration, not the code. The rate-limit checks still run on every request and
 * job (their Redis round trips are part of what is measured); they just never refuse.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../libs/devkit/processes.ts';

const HUGE_RPM = 100_000_000;
const HUGE_TPM = 1_000_000_000_000;

/** Copies config/ into `dir`/config with the limits raised; answers the new CONFIG_DIR. */
export function benchConfigDir(dir: string): string {
  const configDir = join(dir, 'config');
  cpSync(join(ROOT, 'config'), configDir, { recursive: true });
  const path = join(configDir, 'rate_limits.json');
  const limits = JSON.parse(readFileSync(path, 'utf8')) as {
    providers?: Record<string, { rpm: number; tpm: number }>;
    clients?: Record<string, { rpm: number; read_rpm?: number }>;
  };
  for (const p of Object.values(limits.providers ?? {})) Object.assign(p, { rpm: HUGE_RPM, tpm: HUGE_TPM });
  for (const c of Object.values(limits.clients ?? {})) Object.assign(c, { rpm: HUGE_RPM, read_rpm: HUGE_RPM });
  writeFileSync(path, JSON.stringify(limits, null, 2));
  return configDir;
}
