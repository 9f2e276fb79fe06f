/**
 * Holds the running config and swaps it on reload. A reload that finds an invalid file is
 * refused and logged; the running config stays, so a typo never takes the gateway down.
 */
import { existsSync, watch as fsWatch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import { loadConfigFiles, readConfigFiles, type ConfigFiles } from './load.ts';
import type { GatewayConfig } from './types.ts';
import { configHash, shouldPublishLocal, type ConfigVersion, type LocalTrigger } from './sync/version.ts';

/** The logger methods ConfigHolder uses (a pino logger fits). */
export interface ConfigLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a reload did: `changed` is false when the files load to the same config as before. */
export type ReloadResult = { ok: true; changed: boolean } | { ok: false; error: GatewayError };

/** Where a config came from: this process's CONFIG_DIR, or the newest version published through Redis. */
export type ConfigOrigin = 'config_dir' | 'published';

/** What one reload attempt did, told to onReload observers (metrics, the audit log). */
export type ConfigReloadEvent =
  | { applied: true; config: GatewayConfig; previous: GatewayConfig; origin?: ConfigOrigin; version?: ConfigVersion }
  | { applied: false; error: GatewayError; origin?: ConfigOrigin; version?: ConfigVersion };

/** A valid change read from this process's CONFIG_DIR and applied here, for config sync to publish. */
export interface LocalConfigChange {
  files: ConfigFiles;
  hash: string;
  trigger: LocalTrigger;
}

/** Options for ConfigHolder. */
export interface ConfigHolderOptions {
  /** Milliseconds to wait after the last file event before reloading (editors write in bursts). Default 100. */
  debounceMs?: number;
  /** Reads the directory's file texts; tests may replace it. Default readConfigFiles. */
  read?: (configDir: string) => ConfigFiles;
}

const silent: ConfigLogger = { info: () => {}, error: () => {} };

/** The current GatewayConfig of one process, reloadable from CONFIG_DIR. */
export class ConfigHolder {
  readonly configDir: string;
  #config: GatewayConfig;
  #files: ConfigFiles;
  #version: ConfigVersion;
  // What this process last read from its own CONFIG_DIR: a watch event publishes only an edit.
  #diskHash: string;
  readonly #log: ConfigLogger;
  readonly #debounceMs: number;
  readonly #read: (configDir: string) => ConfigFiles;
  readonly #listeners: ((config: GatewayConfig) => void)[] = [];
  readonly #observers: ((event: ConfigReloadEvent) => void)[] = [];
  readonly #localChanges: ((change: LocalConfigChange) => void)[] = [];
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** Loads `configDir` at once; throws GatewayError `invalid_config` if it is invalid (a start-up error). */
  constructor(configDir: string, log: ConfigLogger = silent, options: ConfigHolderOptions = {}) {
    this.configDir = configDir;
    this.#log = log;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#read = options.read ?? readConfigFiles;
    this.#files = this.#read(configDir);
    this.#config = loadConfigFiles(this.#files, configDir);
    this.#diskHash = configHash(this.#files);
    this.#version = { number: 0, hash: this.#diskHash };
  }

  /** The running config (frozen; replaced, never mutated, by a reload). */
  current(): GatewayConfig {
    return this.#config;
  }

  /** The version of the running config: its content hash, and its publication number (0 until published). */
  version(): ConfigVersion {
    return this.#version;
  }

  /** The file texts of the running config (what config sync publishes). */
  files(): ConfigFiles {
    return this.#files;
  }

  /**
   * Re-reads the directory; keeps the running config and logs why if anything is invalid. A
   * `watch` reload applies only files edited since this process last read them (see
   * shouldPublishLocal); `sighup` (the default) applies whatever differs from the running config.
   */
  reload(trigger: LocalTrigger = 'sighup'): ReloadResult {
    let files: ConfigFiles;
    let next: GatewayConfig;
    try {
      files = this.#read(this.configDir);
      next = loadConfigFiles(files, this.configDir);
    } catch (e) {
      return this.#refuse(e, 'config_dir');
    }
    const hash = configHash(files);
    const apply = shouldPublishLocal(trigger, hash, this.#diskHash, this.#version.hash);
    this.#diskHash = hash;
    if (!apply) return { ok: true, changed: false };
    this.#swap(files, next, { number: this.#version.number, hash }, 'config_dir');
    for (const listener of this.#localChanges) {
      try {
        listener({ files, hash, trigger });
      } catch (e) {
        this.#log.error({ err: e }, 'a local config change listener threw');
      }
    }
    return { ok: true, changed: true };
  }

  /**
   * Adopts a published config: validates `files` with the same loader as CONFIG_DIR and runs them
   * as `version`, or refuses them (logged, observers told) and keeps the running config.
   */
  adopt(files: ConfigFiles, version: ConfigVersion): ReloadResult {
    let next: GatewayConfig;
    try {
      next = loadConfigFiles(files, `published config version ${version.number}`);
    } catch (e) {
      return this.#refuse(e, 'published', version);
    }
    this.#swap(files, next, version, 'published');
    return { ok: true, changed: true };
  }

  /** Records that the running content was published as `version` (same hash, newer number); anything else is ignored. */
  renumber(version: ConfigVersion): void {
    if (version.hash === this.#version.hash && version.number > this.#version.number) this.#version = version;
  }

  /** Calls `listener` after each valid change this process read from its own CONFIG_DIR and applied (config sync publishes it). */
  onLocalChange(listener: (change: LocalConfigChange) => void): void {
    this.#localChanges.push(listener);
  }

  #refuse(e: unknown, origin: ConfigOrigin, version?: ConfigVersion): ReloadResult {
    const error = isGatewayError(e)
      ? e
      : new GatewayError('invalid_config', `Config reload failed: ${(e as Error).message}`, { status: 500, cause: e });
    this.#log.error(
      { err: { code: error.code, message: error.message }, details: error.details, configDir: this.configDir, origin, version },
      `config ${origin === 'published' ? 'version refused' : 'reload refused'}, keeping the running config: ${error.message}`,
    );
    this.#tell({ applied: false, error, origin, ...(version ? { version } : {}) });
    return { ok: false, error };
  }

  #swap(files: ConfigFiles, next: GatewayConfig, version: ConfigVersion, origin: ConfigOrigin): void {
    const previous = this.#config;
    this.#config = next;
    this.#files = files;
    this.#version = version;
    this.#log.info({ configDir: this.configDir, origin, version, features: Object.keys(next.features) }, 'config reloaded');
    for (const listener of this.#listeners) {
      try {
        listener(next);
      } catch (e) {
        this.#log.error({ err: e }, 'a config change listener threw');
      }
    }
    this.#tell({ applied: true, config: next, previous, origin, version });
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
      this.reload('watch');
    }, this.#debounceMs);
    this.#timer.unref();
  }
}
