/**
 * Holds the running config and swaps it on reload. A reload that finds an invalid file is
 * refused and logged; the running config stays, so a typo never takes the gateway down.
 */
import { existsSync, watch as fsWatch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import { loadConfig } from './load.ts';
import type { GatewayConfig } from './types.ts';

/** The logger methods ConfigHolder uses (a pino logger fits). */
export interface ConfigLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a reload did: `changed` is false when the files load to the same config as before. */
export type ReloadResult = { ok: true; changed: boolean } | { ok: false; error: GatewayError };

/** What one reload attempt did, told to onReload observers (metrics, the audit log). */
export type ConfigReloadEvent =
  | { applied: true; config: GatewayConfig; previous: GatewayConfig }
  | { applied: false; error: GatewayError };

/** Options for ConfigHolder. */
export interface ConfigHolderOptions {
  /** Milliseconds to wait after the last file event before reloading (editors write in bursts). Default 100. */
  debounceMs?: number;
  /** Loads the directory; tests may replace it. Default loadConfig. */
  load?: (configDir: string) => GatewayConfig;
}

const silent: ConfigLogger = { info: () => {}, error: () => {} };

/** The current GatewayConfig of one process, reloadable from CONFIG_DIR. */
export class ConfigHolder {
  readonly configDir: string;
  #config: GatewayConfig;
  #fingerprint: string;
  readonly #log: ConfigLogger;
  readonly #debounceMs: number;
  readonly #load: (configDir: string) => GatewayConfig;
  readonly #listeners: ((config: GatewayConfig) => void)[] = [];
  readonly #observers: ((event: ConfigReloadEvent) => void)[] = [];
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** Loads `configDir` at once; throws GatewayError `invalid_config` if it is invalid (a start-up error). */
  constructor(configDir: string, log: ConfigLogger = silent, options: ConfigHolderOptions = {}) {
    this.configDir = configDir;
    this.#log = log;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#load = options.load ?? loadConfig;
    this.#config = this.#load(configDir);
    this.#fingerprint = JSON.stringify(this.#config);
  }

  /** The running config (frozen; replaced, never mutated, by a reload). */
  current(): GatewayConfig {
    return this.#config;
  }

  /** Re-reads the directory; keeps the running config and logs why if anything is invalid. */
  reload(): ReloadResult {
    let next: GatewayConfig;
    try {
      next = this.#load(this.configDir);
    } catch (e) {
      const error = isGatewayError(e)
        ? e
        : new GatewayError('invalid_config', `Config reload failed: ${(e as Error).message}`, { status: 500, cause: e });
      this.#log.error(
        { err: { code: error.code, message: error.message }, details: error.details, configDir: this.configDir },
        `config reload refused, keeping the running config: ${error.message}`,
      );
      this.#tell({ applied: false, error });
      return { ok: false, error };
    }
    const fingerprint = JSON.stringify(next);
    if (fingerprint === this.#fingerprint) return { ok: true, changed: false };
    const previous = this.#config;
    this.#config = next;
    this.#fingerprint = fingerprint;
    this.#log.info({ configDir: this.configDir, features: Object.keys(next.features) }, 'config reloaded');
    for (const listener of this.#listeners) {
      try {
        listener(next);
      } catch (e) {
        this.#log.error({ err: e }, 'a config change listener threw');
      }
    }
    this.#tell({ applied: true, config: next, previous });
    return { ok: true, changed: true };
  }

  /** Calls `observer` after every reload that applied a changed config or was refused. */
  onReload(observer: (event: ConfigReloadEvent) => void): void {
    this.#observers.push(observer);
  }

  #tell(event: ConfigReloadEvent): void {
    for (const observer of this.#observers) {
      try {
        observer(event);
      } catch (e) {
        this.#log.error({ err: e }, 'a config reload observer threw');
      }
    }
  }

  /**
   * Reloads whenever a JSON file in the directory or its features/ changes, after a debounce.
   * `onChange` (optional) is called with each new config that loads and differs from the last.
   */
  watch(onChange?: (config: GatewayConfig) => void): void {
    if (onChange) this.#listeners.push(onChange);
    if (this.#watchers.length > 0) return;
    // Watch directories, not files: editors and `kubectl` replace files by rename.
    for (const dir of [this.configDir, join(this.configDir, 'features')]) {
      if (!existsSync(dir)) continue;
      const watcher = fsWatch(dir, { persistent: false }, (_event, filename) => {
        if (filename === null || String(filename).endsWith('.json') || String(filename) === 'features') this.#schedule();
      });
      watcher.on('error', (err) => this.#log.error({ err, dir }, 'config watcher failed; send SIGHUP to apply changes'));
      this.#watchers.push(watcher);
    }
  }

  /** Stops watching and cancels a pending reload. */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.reload();
    }, this.#debounceMs);
    this.#timer.unref();
  }
}
