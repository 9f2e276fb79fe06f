/**
 * Config versions and the decisions of config sync, as plain functions: which published config a
 * process adopts, and whether a change it saw locally is published. No I/O here.
 */
import { createHash } from 'node:crypto';
import type { ConfigFiles } from '../load.ts';

/** A config's version: `number` orders publications cluster-wide (0 = never published); `hash` names the content. */
export interface ConfigVersion {
  /** Monotonically increasing publication number from Redis; 0 for a config read from disk and not yet published. */
  number: number;
  /** Content hash of the config files (hex SHA-256, first 12 characters). */
  hash: string;
}

/** Hex characters of the SHA-256 kept as a config's hash: short enough for a label, long enough to be unique. */
export const CONFIG_HASH_LENGTH = 12;

/** The content hash of a config's files: independent of key order, sensitive to every byte of every file. */
export function configHash(files: ConfigFiles): string {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) {
    // Length-prefixed, so moving bytes from one file to the next changes the hash.
    const text = files[name] ?? '';
    h.update(`${name.length}:${name}:${Buffer.byteLength(text)}:`).update(text);
  }
  return h.digest('hex').slice(0, CONFIG_HASH_LENGTH);
}

/** The version label of a config version, as `/readyz` and the metric show it: `"7"`, or `"0"` before any publication. */
export function versionLabel(v: ConfigVersion): string {
  return String(v.number);
}

/** Orders versions by publication number: negative when `a` is older than `b`, 0 same number, positive newer. */
export function compareVersions(a: ConfigVersion, b: ConfigVersion): number {
  return a.number - b.number;
}

/** What a process does with the newest published config it has just read. */
export type AdoptDecision =
  | { kind: 'adopt' }
  | { kind: 'keep'; reason: 'nothing_published' | 'not_newer' | 'same_content' | 'refused_before' };

/**
 * Whether to adopt `published` while running `running`: only a newer publication whose content
 * differs is loaded (a newer number with the same hash just renumbers the running config, see
 * `renumber`), and a version this process already refused as invalid is not tried again.
 */
export function decideAdoption(running: ConfigVersion, published: ConfigVersion | null, refused: ConfigVersion | null = null): AdoptDecision {
  if (!published) return { kind: 'keep', reason: 'nothing_published' };
  if (compareVersions(published, running) <= 0) return { kind: 'keep', reason: 'not_newer' };
  if (refused && refused.number === published.number && refused.hash === published.hash) return { kind: 'keep', reason: 'refused_before' };
  if (published.hash === running.hash) return { kind: 'keep', reason: 'same_content' };
  return { kind: 'adopt' };
}

/** The version a process reports after seeing `published` with the content it already runs: the newer number, same hash. */
export function renumber(running: ConfigVersion, published: ConfigVersion | null): ConfigVersion {
  if (published && published.hash === running.hash && published.number > running.number) return published;
  return running;
}

/** What made a process read its CONFIG_DIR again. */
export type LocalTrigger = 'watch' | 'sighup';

/**
 * Whether a valid config just read from this process's CONFIG_DIR is published (and so becomes
 * every process's config). A file-watch event publishes only when the files changed since this
 * process last read them: a host whose copy is merely older than the published config must not
 * push it back. SIGHUP is an operator's explicit "apply these files": it publishes whenever they
 * differ from what runs.
 */
export function shouldPublishLocal(trigger: LocalTrigger, diskHash: string, lastDiskHash: string, runningHash: string): boolean {
  if (diskHash === runningHash) return false;
  return trigger === 'sighup' || diskHash !== lastDiskHash;
}
