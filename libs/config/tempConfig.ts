/**
 * Test helper: copies the shipped config/ into a fresh temporary directory and lets a test
 * break one file at a time. Not used at run time.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Tests reach into arbitrary paths to break them; typing each file would only add casts.
/** JSON a test edits freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = Record<string, any>;

/** The repository's shipped config directory. */
export const SHIPPED_CONFIG_DIR = join(import.meta.dirname, '..', '..', 'config');

/** A temporary copy of the shipped config; `cleanup()` deletes it. */
export interface TempConfig {
  dir: string;
  /** Parses `file` (relative to dir), lets `change` edit it in place, writes it back. */
  edit(file: string, change: (json: AnyJson) => void): void;
  /** Writes raw text to `file` (relative to dir). */
  write(file: string, text: string): void;
  cleanup(): void;
}

/** Copies the shipped config (without schemas/, which ship with the code) to a temp dir. */
export function tempConfig(): TempConfig {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-config-'));
  cpSync(SHIPPED_CONFIG_DIR, dir, { recursive: true, filter: (src) => !src.includes(`${SHIPPED_CONFIG_DIR}/schemas`) });
  return {
    dir,
    edit(file, change) {
      const path = join(dir, file);
      const json = JSON.parse(readFileSync(path, 'utf8')) as AnyJson;
      change(json);
      writeFileSync(path, JSON.stringify(json, null, 2));
    },
    write(file, text) {
      writeFileSync(join(dir, file), text);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
