/**
 * One config everywhere: every valid change a process accepts (its CONFIG_DIR edited, SIGHUP, the
 * operator endpoint) is published through Redis with a version, and every process polls the
 * newest version and adopts it once it validates. The decisions live in version.ts.
 */
import { hostname } from 'node:os';
import { GatewayError, isGatewayError } from '../../errors/index.ts';
import { loadConfigFiles, type ConfigFiles } from '../load.ts';
import type { ConfigHolder, ConfigLogger, LocalConfigChange } from '../watch.ts';
import type { RedisConfigStore } from './redisStore.ts';
import { configHash, decideAdoption, renumber, type ConfigVersion } from './version.ts';

/** Milliseconds between two reads of the published version; with the load, a change reaches every process well within 2 s. @defaultValue 500 */
export const CONFIG_SYNC_POLL_MS = 500;

/** Options for startConfigSync. */
export interface ConfigSyncOptions {
  holder: ConfigHolder;
  store: RedisConfigStore;
  log: ConfigLogger;
  /** The process's name in the publication's `source` (`api`, `worker`). */
  processName: string;
  /** Milliseconds between polls of the published version. @defaultValue CONFIG_SYNC_POLL_MS (500) */
  pollMs?: number;
}

/** A running config sync. */
export interface ConfigSync {
  /** Validates `files` as a whole config and publishes it (the operator endpoint); this process runs it at once. Throws `invalid_config` (400). */
  publish(files: ConfigFiles, trigger: string): Promise<ConfigVersion>;
  /** Reads the published version once and adopts it if newer (what each poll does). */
  poll(): Promise<void>;
  /** Stops polling. */
  close(): void;
}

/**
 * Starts config sync for `holder`: adopts the published version if there is one (or publishes
 * this process's config if none is), then polls every `pollMs` and publishes local changes.
 * Redis errors are logged and retried at the next poll; they never change the running config.
 */
export async function startConfigSync(options: ConfigSyncOptions): Promise<ConfigSync> {
  const { holder, store, log } = options;
  const source = (trigger: string) => `${options.processName}@${hostname()}:${process.pid} (${trigger})`;
  let refused: ConfigVersion | null = null;
  // A local change not yet published (Redis did not answer): published by the next poll.
  let pending: LocalConfigChange | null = null;
  // One step at a time, so a poll never interleaves with a publication.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const next = chain.then(step, step);
    chain = next.catch(() => undefined);
    return next;
  };

  const publishLocal = async (change: LocalConfigChange): Promise<void> => {
    if (holder.version().hash !== change.hash) {
      // Something newer already replaced this change here: nothing left to publish.
      pending = null;
      return;
    }
    const { version } = await store.publish(change.files, change.hash, { floor: holder.version().number, source: source(change.trigger) });
    pending = null;
    holder.renumber(version);
    log.info({ event: 'config_published', version, trigger: change.trigger }, `config version ${version.number} published`);
  };

  const poll = async (): Promise<void> => {
    if (pending) await publishLocal(pending);
    const running = holder.version();
    const head = await store.head();
    if (!head) {
      // Redis lost the document (or nothing was ever published): offer ours, numbered where we are.
      const { version } = await store.publish(holder.files(), running.hash, { floor: Math.max(0, running.number - 1), source: source('republish') });
      holder.renumber(version);
      return;
    }
    if (decideAdoption(running, head, refused).kind !== 'adopt') {
      holder.renumber(renumber(running, head));
      return;
    }
    const published = await store.read();
    if (!published || decideAdoption(holder.version(), published.version, refused).kind !== 'adopt') return;
    // The document's own hash is what the files must hash to: a torn or edited document is refused.
    const result = configHash(published.files) === published.version.hash
      ? holder.adopt(published.files, published.version)
      : holder.adopt({}, published.version);
    if (result.ok) {
      log.info({ event: 'config_adopted', version: published.version, source: published.source }, `config version ${published.version.number} adopted`);
    } else {
      refused = published.version;
    }
  };

  const guarded = () =>
    serial(poll).catch((err: unknown) => log.error({ event: 'config_sync_failed', err: { message: (err as Error).message } }, 'config sync could not reach Redis; retrying'));

  holder.onLocalChange((change) => {
    pending = change;
    void serial(() => publishLocal(change)).catch((err: unknown) =>
      log.error({ event: 'config_publish_failed', err: { message: (err as Error).message } }, 'a config change was applied here but not published; retrying'),
    );
  });
  await guarded();
  // A poll still waiting on a slow Redis is not joined by more: they would pile up behind it.
  let polling = false;
  const tick = () => {
    if (polling) return;
    polling = true;
    void guarded().finally(() => (polling = false));
  };
  const timer = setInterval(tick, options.pollMs ?? CONFIG_SYNC_POLL_MS);
  timer.unref();

  return {
    publish: (files, trigger) =>
      serial(async () => {
        try {
          loadConfigFiles(files, 'the submitted config');
        } catch (e) {
          if (!isGatewayError(e)) throw e;
          throw new GatewayError('invalid_config', e.message.replace(/ Fix the file:.*$/, ''), { status: 400, details: e.details ?? [] });
        }
        const hash = configHash(files);
        const { version } = await store.publish(files, hash, { floor: holder.version().number, source: source(trigger) });
        if (version.hash !== holder.version().hash) holder.adopt(files, version);
        else holder.renumber(version);
        return holder.version();
      }),
    poll: () => serial(poll),
    close: () => clearInterval(timer),
  };
}
