/**
 * Reads CONFIG_DIR, validates every file against its schema in config/schemas/ and the
 * cross-file rules, and returns one frozen GatewayConfig, or throws `invalid_config`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { GatewayError } from '../errors/index.ts';
import type { ErrorDetail } from '../errors/index.ts';
import { createAjv, toErrorDetails } from './ajv.ts';
import { crossCheck } from './checks.ts';
import type { AbTestConfigFile, AlertsFile, FeatureConfig, GatewayConfig, ProviderSettingsFile, RateLimitsFile } from './types.ts';

/** The schemas ship with the code, not with CONFIG_DIR: they are the contract the code relies on. */
export const SCHEMA_DIR = join(import.meta.dirname, '..', '..', 'config', 'schemas');

/** Schema file (in SCHEMA_DIR) for each kind of config file. */
export const SCHEMA_FILES = {
  providers: 'provider_settings.schema.json',
  abTests: 'ab_test_config.schema.json',
  rateLimits: 'rate_limits.schema.json',
  feature: 'feature.schema.json',
  alerts: 'alerts.schema.json',
} as const;

type SchemaKind = keyof typeof SCHEMA_FILES;

let validators: Record<SchemaKind, ValidateFunction> | undefined;

// Compiled once per process: the schemas are code, so a reload need not pay for them again.
function getValidators(): Record<SchemaKind, ValidateFunction> {
  if (!validators) {
    const ajv = createAjv();
    const compile = (kind: SchemaKind): ValidateFunction => {
      const file = join(SCHEMA_DIR, SCHEMA_FILES[kind]);
      return ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
    };
    validators = { providers: compile('providers'), abTests: compile('abTests'), rateLimits: compile('rateLimits'), feature: compile('feature'), alerts: compile('alerts') };
  }
  return validators;
}

/** The top-level config files, relative to CONFIG_DIR (features/*.json come besides them). */
export const TOP_CONFIG_FILES = ['provider_settings.json', 'ab_test_config.json', 'rate_limits.json', 'alerts.json'] as const;

/** A config as its files' texts, keyed by path relative to CONFIG_DIR (`rate_limits.json`, `features/career.json`). */
export type ConfigFiles = Readonly<Record<string, string>>;

/**
 * Loads and validates every config file under `configDir`: provider_settings.json,
 * ab_test_config.json, rate_limits.json, alerts.json and features/*.json (keyed by their `name`).
 * Throws GatewayError `invalid_config` (500) naming the file, with one detail per problem
 * whose path is `<file>#<JSON pointer>`.
 */
export function loadConfig(configDir: string): GatewayConfig {
  return loadConfigFiles(readConfigFiles(configDir), configDir);
}

/**
 * Reads the texts of the config files under `configDir` (a missing top-level file is left out,
 * so loadConfigFiles names it). Throws `invalid_config` when features/ cannot be read.
 */
export function readConfigFiles(configDir: string): ConfigFiles {
  const files: Record<string, string> = {};
  for (const file of [...TOP_CONFIG_FILES, ...listFeatureFiles(configDir)]) {
    const full = join(configDir, file);
    try {
      files[file] = readFileSync(full, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw invalid(file, [], `cannot be read: ${(e as Error).message}`);
    }
  }
  return files;
}

/**
 * Validates a config given as file texts, exactly as loadConfig validates a directory (same
 * schemas, same cross-file checks); `where` names their origin in messages. Throws `invalid_config`.
 */
export function loadConfigFiles(files: ConfigFiles, where = 'the published config'): GatewayConfig {
  const providers = readValid<ProviderSettingsFile>(files, where, 'provider_settings.json', 'providers');
  const abTests = readValid<AbTestConfigFile>(files, where, 'ab_test_config.json', 'abTests');
  const rateLimits = readValid<RateLimitsFile>(files, where, 'rate_limits.json', 'rateLimits');
  const alerts = readValid<AlertsFile>(files, where, 'alerts.json', 'alerts');
  const features: Record<string, FeatureConfig> = {};
  const featureFiles: Record<string, string> = {};
  const featureNames = Object.keys(files).filter((n) => /^features\/[^/]+\.json$/.test(n)).sort();
  for (const file of featureNames) {
    const feature = readValid<FeatureConfig>(files, where, file, 'feature');
    const expected = file.slice('features/'.length, -'.json'.length);
    if (feature.name !== expected) {
      throw invalid(file, [{ path: `${file}#/name`, message: `must be '${expected}', the file's name` }]);
    }
    features[feature.name] = feature;
    featureFiles[feature.name] = file;
  }
  const config: GatewayConfig = { providers, abTests, rateLimits, features, alerts };
  const problems = crossCheck(config, featureFiles);
  if (problems.length > 0) {
    const first = problems[0]?.path?.split('#')[0] ?? 'config';
    throw invalid(first, problems, 'fails a cross-file check');
  }
  return deepFreeze(config);
}

function listFeatureFiles(configDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(configDir, 'features'));
  } catch (e) {
    throw invalid('features/', [], `cannot be read (${(e as Error).message}); create the directory with one <name>.json per feature`);
  }
  return names.filter((n) => n.endsWith('.json')).sort().map((n) => `features/${n}`);
}

function readValid<T>(files: ConfigFiles, where: string, file: string, kind: SchemaKind): T {
  const text = Object.hasOwn(files, file) ? files[file] : undefined;
  if (text === undefined) throw invalid(file, [], `is missing (looked for ${join(where, file)})`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw invalid(file, [{ path: `${file}#`, message: (e as Error).message }], `is not valid JSON (${(e as Error).message})`);
  }
  const validate = getValidators()[kind];
  if (!validate(data)) {
    throw invalid(file, toErrorDetails(validate.errors, `${file}#`), `does not match ${SCHEMA_FILES[kind]}`);
  }
  return data as T;
}

function invalid(file: string, details: ErrorDetail[], why = 'is invalid'): GatewayError {
  const first = details[0];
  const summary = first ? `: ${first.path} ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}` : '';
  return new GatewayError('invalid_config', `Config file ${file} ${why}${summary}. Fix the file: a running process reloads it on save or SIGHUP, a stopped one reads it at start.`, {
    status: 500,
    details,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
