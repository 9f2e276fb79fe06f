/**
 * The audit log: one JSON line per operator action in TELEMETRY_DIR/audit-YYYY-MM-DD.jsonl, apart
 * from every other log, written whatever LOG_LEVEL says. Lines are written at once (not held for
 * a periodic flush): actions are rare, and an operator looking for one must find it.
 */
import { hostname } from 'node:os';
import type { ConfigReloadEvent } from '../config/watch.ts';
import { DailyJsonlAppender } from '../telemetry/dailyFile.ts';
import { diffConfig } from './configDiff.ts';

/** What an operator did. */
export type AuditAction = 'config_reload' | 'config_publish' | 'webhook_replay' | 'bull_board_action' | 'admin_login';

/** How it ended: config reloads are `applied` or `refused`; other actions `success` or `failure`. */
export type AuditOutcome = 'success' | 'failure' | 'applied' | 'refused';

/** One line of the audit file. */
export interface AuditEntry {
  /** ISO-8601 UTC time of the action. */
  ts: string;
  /** Who: `admin` (the holder of GATEWAY_ADMIN_TOKEN), `viewer` (of GATEWAY_VIEWER_TOKEN), `anonymous` (a failed login), `config_dir` (whoever edited CONFIG_DIR). */
  actor: string;
  action: AuditAction;
  /** What it acted on: a job id, a Bull Board API path, the config directory, `/admin`. */
  target: string;
  outcome: AuditOutcome;
  /** The client address as the API saw it, null for actions without a request. */
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

/** Where audit entries go (AuditLog, or a test's array). */
export interface AuditSink {
  record(entry: Omit<AuditEntry, 'ts'> & { ts?: string }): void;
}

/** Options of AuditLog. */
export interface AuditLogOptions {
  /** Told when a line could not be written; must not throw. */
  onProblem?: (problem: unknown) => void;
  now?: () => Date;
}

/** Writes audit entries to `<dir>/audit-YYYY-MM-DD.jsonl` (UTC date). */
export class AuditLog implements AuditSink {
  readonly #appender: DailyJsonlAppender;
  readonly #now: () => Date;

  constructor(dir: string, options: AuditLogOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#appender = new DailyJsonlAppender(dir, 'audit', { flushIntervalMs: 0, now: this.#now, ...(options.onProblem ? { onProblem: options.onProblem } : {}) });
  }

  record(entry: Omit<AuditEntry, 'ts'> & { ts?: string }): void {
    const { ts, actor, action, target, outcome, ip, request_id, details } = entry;
    this.#appender.append({ ts: ts ?? this.#now().toISOString(), actor, action, target, outcome, ip, request_id, details });
  }

  /** Resolves once every recorded entry is written. */
  flush(): Promise<void> {
    return this.#appender.flush();
  }

  close(): Promise<void> {
    return this.#appender.close();
  }
}

/**
 * The audit entry of a config reload seen by process `processName` (the API writes them; with
 * many API processes each writes its own line, told apart by `details.host` and `details.pid`).
 */
export function configReloadEntry(event: ConfigReloadEvent, configDir: string, processName: string): Omit<AuditEntry, 'ts'> {
  const source = { process: processName, host: hostname(), pid: process.pid, ...(event.version ? { version: event.version.number, hash: event.version.hash } : {}) };
  // A version adopted from Redis came from another process: say so rather than name this CONFIG_DIR.
  const actor = event.origin === 'published' ? 'config_sync' : 'config_dir';
  if (event.applied) {
    const { changes, omitted } = diffConfig(event.previous, event.config);
    return { actor, action: 'config_reload', target: configDir, outcome: 'applied', ip: null, request_id: null, details: { ...source, changes, omitted } };
  }
  const { code, message, details } = event.error;
  return { actor, action: 'config_reload', target: configDir, outcome: 'refused', ip: null, request_id: null, details: { ...source, error: { code, message, details } } };
}
