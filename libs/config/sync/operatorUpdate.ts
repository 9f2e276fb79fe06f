/**
 * What `PUT /admin/config` asks for, as plain data: a body naming the files to replace (or
 * remove) is merged over the running config's files. Validation of the result is the loader's.
 */
import { GatewayError, type ErrorDetail } from '../../errors/index.ts';
import type { ConfigFiles } from '../load.ts';

/** Largest config update body, in bytes, the operator endpoint parses. @defaultValue 1 MiB */
export const CONFIG_UPDATE_LIMIT_BYTES = 1024 * 1024;

const FILE_NAME = /^(provider_settings|ab_test_config|rate_limits|alerts)\.json$|^features\/[A-Za-z0-9_-]+\.json$/;

/**
 * Merges `body` (`{"files": {"rate_limits.json": {...}, "features/x.json": null}}`) over `running`:
 * a JSON value replaces the file (written with 2-space indentation), a string replaces it verbatim,
 * null removes a feature file. Throws GatewayError `invalid_config_update` (400) for another shape.
 */
export function mergeConfigUpdate(running: ConfigFiles, body: unknown): ConfigFiles {
  const files = (body as { files?: unknown } | null)?.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files) || Object.keys(files).length === 0) {
    throw refused([{ path: '#/files', message: 'must be an object of at least one config file name to its new content' }]);
  }
  const problems: ErrorDetail[] = [];
  const next: Record<string, string> = { ...running };
  for (const [name, content] of Object.entries(files as Record<string, unknown>)) {
    if (!FILE_NAME.test(name)) {
      problems.push({ path: `#/files/${name}`, message: 'is not a config file: provider_settings.json, ab_test_config.json, rate_limits.json, alerts.json or features/<name>.json' });
    } else if (content === null) {
      if (!name.startsWith('features/')) problems.push({ path: `#/files/${name}`, message: 'cannot be removed: only feature files can' });
      delete next[name];
    } else {
      next[name] = typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`;
    }
  }
  if (problems.length > 0) throw refused(problems);
  return next;
}

function refused(details: ErrorDetail[]): GatewayError {
  return new GatewayError('invalid_config_update', 'Send {"files": {"<file>.json": <its new content>}}; see "Config sync" in the README.', { status: 400, details });
}
