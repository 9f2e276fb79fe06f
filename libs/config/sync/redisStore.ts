/**
 * Where the newest config version lives in Redis: one hash under its own cluster tag,
 * `{<prefix>:config}:current`, written by one Lua script (publishConfig-1.lua).
 */
import { readFileSync } from 'node:fs';
import type { RedisClient } from '../../redis/client.ts';
import { familyTag } from '../../redis/keys.ts';
import type { ConfigFiles } from '../load.ts';
import type { ConfigVersion } from './version.ts';

/** The newest published config: its version, its files and who published it. */
export interface PublishedConfig {
  version: ConfigVersion;
  files: ConfigFiles;
  /** `<process>@<host>:<pid> (<trigger>)` of the publisher. */
  source: string;
  /** Epoch milliseconds of the publication (the publisher's clock). */
  at: number;
}

interface PublishCommands {
  publishConfig(key: string, hash: string, files: string, floor: number, source: string, now: number): Promise<[number, number]>;
}

const PUBLISH_LUA = readFileSync(new URL('./publishConfig-1.lua', import.meta.url), 'utf8');

/** Reads and writes the published config version in Redis. */
export class RedisConfigStore {
  readonly #redis: RedisClient & PublishCommands;
  readonly #key: string;

  /** `prefix` is the braced queue prefix (e.g. '{bull}'). */
  constructor(redis: RedisClient, prefix: string) {
    redis.defineCommand('publishConfig', { numberOfKeys: 1, lua: PUBLISH_LUA });
    this.#redis = redis as RedisClient & PublishCommands;
    this.#key = `${familyTag(prefix, 'config')}:current`;
  }

  /** The Redis key of the config document. */
  get key(): string {
    return this.#key;
  }

  /** The number and hash of the newest published version (one small read), or null when none is. */
  async head(): Promise<ConfigVersion | null> {
    const [n, h] = await this.#redis.hmget(this.#key, 'n', 'h');
    if (n == null || h == null) return null;
    return { number: Number(n), hash: h };
  }

  /** The newest published version with its files (read in one command, so they belong together), or null. */
  async read(): Promise<PublishedConfig | null> {
    const [n, h, f, src, at] = await this.#redis.hmget(this.#key, 'n', 'h', 'f', 'src', 'at');
    if (n == null || h == null || f == null) return null;
    let files: ConfigFiles;
    try {
      files = JSON.parse(f) as ConfigFiles;
    } catch {
      // A document nobody can parse is no config: the caller refuses it by its version.
      files = {};
    }
    return { version: { number: Number(n), hash: h }, files, source: src ?? 'unknown', at: Number(at ?? 0) };
  }

  /**
   * Publishes `files` (content hash `hash`) as the newest version, numbered above both the stored
   * number and `floor` (the publisher's running number); a no-op when the head holds that content.
   */
  async publish(files: ConfigFiles, hash: string, options: { floor: number; source: string; now?: number }): Promise<{ version: ConfigVersion; published: boolean }> {
    const [n, published] = await this.#redis.publishConfig(this.#key, hash, JSON.stringify(files), options.floor, options.source, options.now ?? Date.now());
    return { version: { number: Number(n), hash }, published: published === 1 };
  }
}
