import { afterEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isGatewayError } from '../errors/index.ts';
import type { GatewayError } from '../errors/index.ts';
import { loadConfig } from './load.ts';
import { SHIPPED_CONFIG_DIR, tempConfig } from './tempConfig.ts';
import type { AnyJson, TempConfig } from './tempConfig.ts';

let tmp: TempConfig | undefined;
afterEach(() => {
  tmp?.cleanup();
  tmp = undefined;
});

function fresh(): TempConfig {
  tmp = tempConfig();
  return tmp;
}

function loadError(dir: string): GatewayError {
  try {
    loadConfig(dir);
  } catch (e) {
    if (isGatewayError(e)) return e;
    throw e;
  }
  throw new Error('loadConfig accepted a broken config');
}

describe('the shipped config', () => {
  test('loads and validates', () => {
    const config = loadConfig(SHIPPED_CONFIG_DIR);
    expect(Object.keys(config.providers.providers).sort()).toEqual(['anthropic', 'openai']);
    expect(config.abTests.experiments['career_model_ab']?.variants.map((v) => v.name)).toEqual(['gpt4', 'claude']);
    expect(config.rateLimits.budget.monthly_usd).toBe(5000);
    const feature = config.features['career_path_navigator'];
    expect(feature?.prompts.versions[feature.prompts.active]?.user_template).toContain('Current role: {{current_role}}');
    expect(feature?.prompts.versions['v1']?.user_template).toContain('Target sector: {{target_sector}}');
  });

  test('is frozen, so no module can change it under the others', () => {
    const config = loadConfig(SHIPPED_CONFIG_DIR);
    expect(Object.isFrozen(config.providers.providers['openai']?.retry)).toBe(true);
  });
});

describe('each schema refuses a broken copy', () => {
  const cases: [string, string, (j: AnyJson) => void, string][] = [
    ['provider_settings.json', 'a negative timeout', (j) => (j.providers.openai.timeout_ms = -1), '/providers/openai/timeout_ms'],
    ['provider_settings.json', 'a failure rate above 1', (j) => (j.providers.anthropic.breaker.failure_rate = 1.5), '/providers/anthropic/breaker/failure_rate'],
    ['provider_settings.json', 'an unknown kind', (j) => (j.providers.openai.kind = 'mistral'), '/providers/openai/kind'],
    ['provider_settings.json', 'a bad price date', (j) => (j.providers.openai.models['gpt-4'].prices[0].effective_from = '14/03/2023'), '/providers/openai/models/gpt-4/prices/0/effective_from'],
    ['provider_settings.json', 'a key in the file', (j) => (j.providers.openai.api_key = 'sk-oops'), '/providers/openai'],
    ['ab_test_config.json', 'no variants', (j) => (j.experiments.career_model_ab.variants = []), '/experiments/career_model_ab/variants'],
    ['ab_test_config.json', 'a negative weight', (j) => (j.experiments.career_model_ab.variants[0].weight = -5), '/experiments/career_model_ab/variants/0/weight'],
    ['ab_test_config.json', 'a missing salt', (j) => delete j.experiments.career_model_ab.salt, '/experiments/career_model_ab'],
    ['rate_limits.json', 'a threshold of 0', (j) => (j.budget.alert_thresholds = [0, 0.9]), '/budget/alert_thresholds/0'],
    ['rate_limits.json', 'a threshold above 1', (j) => (j.budget.alert_thresholds = [0.8, 1.2]), '/budget/alert_thresholds/1'],
    ['rate_limits.json', 'an unknown on_exhausted', (j) => (j.budget.on_exhausted = 'panic'), '/budget/on_exhausted'],
    ['rate_limits.json', 'a string rpm', (j) => (j.clients.default.rpm = '600'), '/clients/default/rpm'],
    ['rate_limits.json', 'an unknown pacing action', (j) => (j.budget.pacing.action = 'panic'), '/budget/pacing/action'],
    ['rate_limits.json', 'six pacing weights', (j) => (j.budget.pacing.curve = { weekday_weights: [1, 1, 1, 1, 1, 1] }), '/budget/pacing/curve'],
    ['rate_limits.json', 'a negative pacing weight', (j) => (j.budget.pacing.curve = { weekday_weights: [1, 1, 1, -1, 1, 1, 1] }), '/budget/pacing/curve'],
    ['features/career_path_navigator.json', 'a temperature of 3', (j) => (j.output.temperature = 3), '/output/temperature'],
    ['features/career_path_navigator.json', 'no fallback text', (j) => (j.degraded_fallback = {}), '/degraded_fallback'],
    ['features/career_path_navigator.json', 'an unknown top-level field', (j) => (j.extra = true), ''],
    ['features/career_path_navigator.json', 'a personal field outside the request', (j) => (j.privacy.personal_fields = ['answer.text']), '/privacy/personal_fields/0'],
    ['features/career_path_navigator.json', 'privacy without its field list', (j) => (j.privacy = { answer_is_personal: false }), '/privacy'],
    ['features/career_path_navigator.json', 'a top_p above 1', (j) => (j.output.top_p = 1.5), '/output/top_p'],
    ['features/career_path_navigator.json', 'five stop sequences', (j) => (j.output.stop = ['a', 'b', 'c', 'd', 'e']), '/output/stop'],
    ['features/career_path_navigator.json', 'a blank stop sequence', (j) => (j.output.stop = [' ']), '/output/stop/0'],
    ['ab_test_config.json', 'a prompt version that is no version name', (j) => (j.experiments.career_model_ab.variants[0].prompt_version = 'v 2'), '/experiments/career_model_ab/variants/0/prompt_version'],
    ['ab_test_config.json', 'a start time that is no date-time', (j) => (j.experiments.career_model_ab.starts_at = 'tomorrow'), '/experiments/career_model_ab/starts_at'],
    ['ab_test_config.json', 'a holdout of everyone', (j) => (j.experiments.career_model_ab.holdout = 1), '/experiments/career_model_ab/holdout'],
  ];
  test.each(cases)('%s with %s', (file, _what, change, pointer) => {
    const t = fresh();
    t.edit(file, change);
    const e = loadError(t.dir);
    expect(e.code).toBe('invalid_config');
    expect(e.status).toBe(500);
    expect(e.message).toContain(file);
    expect(e.details.map((d) => d.path)).toContain(`${file}#${pointer}`);
  });
});

describe('experiments with prompt versions, a schedule and a holdout', () => {
  test('a variant may name its own prompt version; the error names file and path when an override is misspelt', () => {
    const t = fresh();
    t.edit('features/career_path_navigator.json', (j) => (j.prompts.versions.v2 = { ...j.prompts.versions.v1, system: 'Answer in five steps.' }));
    t.edit('ab_test_config.json', (j) => Object.assign(j.experiments.career_model_ab, {
      variants: [{ name: 'v1', provider: 'openai', model: 'gpt-4', weight: 50 }, { name: 'v2', provider: 'openai', model: 'gpt-4', prompt_version: 'v2', weight: 50 }],
      overrides: [],
      starts_at: '2026-11-01T00:00:00Z',
      ends_at: '2026-12-31T00:00:00Z',
      holdout: 0.1,
    }));
    const exp = loadConfig(t.dir).abTests.experiments['career_model_ab'];
    expect(exp?.variants[1]?.prompt_version).toBe('v2');
    expect(exp?.holdout).toBe(0.1);
    t.edit('ab_test_config.json', (j) => (j.experiments.career_model_ab.overrides = [{ match: { sectr: 'healthcare' }, weights: { v2: 1 } }]));
    expect(loadError(t.dir).message).toMatch(/ab_test_config\.json#\/experiments\/career_model_ab\/overrides\/0\/match\/sectr.*not a category field/);
  });

  test("the cache key must cover the fields of a variant's prompt version, not only the active one's", () => {
    const t = fresh();
    t.edit('features/career_path_navigator.json', (j) => {
      j.prompts.versions.v1.user_template = j.prompts.versions.v1.user_template.replace('{{market_data}}', '');
      j.cache.key_fields = j.cache.key_fields.filter((k: string) => k !== 'market_data');
      j.prompts.versions.v2 = { system: 'Be brief.', user_template: 'Role: {{current_role}}. Salary: {{market_data.median_salary_usd}}' };
    });
    expect(() => loadConfig(t.dir)).not.toThrow();
    t.edit('ab_test_config.json', (j) => (j.experiments.career_model_ab.variants[1].prompt_version = 'v2'));
    const e = loadError(t.dir);
    expect(e.details).toContainEqual(expect.objectContaining({ path: 'features/career_path_navigator.json#/cache/key_fields', message: expect.stringContaining('market_data.median_salary_usd') }));
  });
});

describe('files that cannot be read', () => {
  test('a missing file is named', () => {
    const t = fresh();
    rmSync(join(t.dir, 'rate_limits.json'));
    const e = loadError(t.dir);
    expect(e.code).toBe('invalid_config');
    expect(e.message).toContain('rate_limits.json');
    expect(e.message).toContain('missing');
  });

  test('bad JSON reports the parse error', () => {
    const t = fresh();
    t.write('ab_test_config.json', '{"experiments": {');
    const e = loadError(t.dir);
    expect(e.code).toBe('invalid_config');
    expect(e.message).toMatch(/ab_test_config\.json is not valid JSON \(.+\)/);
  });

  test('a feature file whose name differs from its file name', () => {
    const t = fresh();
    t.edit('features/career_path_navigator.json', (j) => (j.name = 'other_feature'));
    expect(loadError(t.dir).details[0]?.path).toBe('features/career_path_navigator.json#/name');
  });
});

describe('budget pacing', () => {
  test('absent is valid (pacing off); weights all 0 fail with the curve check code', () => {
    const t = fresh();
    t.edit('rate_limits.json', (j) => delete j.budget.pacing);
    expect(loadConfig(t.dir).rateLimits.budget.pacing).toBeUndefined();
    t.edit('rate_limits.json', (j) => (j.budget.pacing = { enabled: true, action: 'batch', curve: { weekday_weights: [0, 0, 0, 0, 0, 0, 0] } }));
    expect(loadError(t.dir).details.find((d) => d.path === 'rate_limits.json#/budget/pacing/curve')?.message).toMatch(/^invalid_pacing_curve: /);
    t.edit('rate_limits.json', (j) => (j.budget.pacing.curve = { weekday_weights: [0, 1, 1, 1, 1, 1, 0] }));
    expect(loadConfig(t.dir).rateLimits.budget.pacing).toMatchObject({ enabled: true, action: 'batch' });
  });
});

describe('cross-file checks', () => {
  const cases: [string, string, (j: AnyJson) => void, string][] = [
    ['ab_test_config.json', 'a variant on an unknown provider', (j) => (j.experiments.career_model_ab.variants[0].provider = 'mistral'), 'ab_test_config.json#/experiments/career_model_ab/variants/0/provider'],
    ['ab_test_config.json', 'a variant on an unknown model', (j) => (j.experiments.career_model_ab.variants[1].model = 'claude-9'), 'ab_test_config.json#/experiments/career_model_ab/variants/1/model'],
    ['ab_test_config.json', 'every weight 0', (j) => j.experiments.career_model_ab.variants.forEach((v: { weight: number }) => (v.weight = 0)), 'ab_test_config.json#/experiments/career_model_ab/variants'],
    ['ab_test_config.json', 'an override for an unknown variant', (j) => (j.experiments.career_model_ab.overrides = [{ match: { sector: 'x' }, weights: { llama: 1 } }]), 'ab_test_config.json#/experiments/career_model_ab/overrides/0/weights/llama'],
    ['ab_test_config.json', 'an experiment for an unknown feature', (j) => (j.experiments.career_model_ab.feature = 'nope'), 'ab_test_config.json#/experiments/career_model_ab/feature'],
    ['provider_settings.json', 'an unknown failover target', (j) => (j.failover.openai = ['cohere']), 'provider_settings.json#/failover/openai/0'],
    ['provider_settings.json', 'failover to itself', (j) => (j.failover.openai = ['openai']), 'provider_settings.json#/failover/openai/0'],
    ['rate_limits.json', 'limits for an unknown provider', (j) => (j.providers.cohere = { rpm: 1, tpm: 1 }), 'rate_limits.json#/providers/cohere'],
    ['rate_limits.json', 'pacing weights all 0', (j) => (j.budget.pacing.curve = { weekday_weights: [0, 0, 0, 0, 0, 0, 0] }), 'rate_limits.json#/budget/pacing/curve'],
    ['features/career_path_navigator.json', 'an unknown experiment', (j) => (j.experiment = 'nope'), 'features/career_path_navigator.json#/experiment'],
    ['features/career_path_navigator.json', 'an active prompt that does not exist', (j) => (j.prompts.active = 'v9'), 'features/career_path_navigator.json#/prompts/active'],
    ['features/career_path_navigator.json', 'an input schema that does not compile', (j) => (j.input_schema.properties.goals = { type: 'strng' }), 'features/career_path_navigator.json#/input_schema'],
    ['features/career_path_navigator.json', 'a placeholder with no input field', (j) => (j.prompts.versions.v1.user_template += ' {{salary}}'), 'features/career_path_navigator.json#/prompts/versions/v1/user_template'],
    ['features/career_path_navigator.json', 'a cache key missing a prompt field', (j) => (j.cache.key_fields = ['current_role']), 'features/career_path_navigator.json#/cache/key_fields'],
    ['features/career_path_navigator.json', 'a personal field with no input field', (j) => (j.privacy.personal_fields = ['input.gaols']), 'features/career_path_navigator.json#/privacy/personal_fields/0'],
    ['ab_test_config.json', 'a variant on a prompt version the feature lacks', (j) => (j.experiments.career_model_ab.variants[1].prompt_version = 'v2'), 'ab_test_config.json#/experiments/career_model_ab/variants/1/prompt_version'],
    ['ab_test_config.json', 'an end before the start', (j) => Object.assign(j.experiments.career_model_ab, { starts_at: '2026-12-01T00:00:00Z', ends_at: '2026-11-01T00:00:00Z' }), 'ab_test_config.json#/experiments/career_model_ab/ends_at'],
    ['ab_test_config.json', 'an override key that is no category field', (j) => (j.experiments.career_model_ab.overrides[0].match = { sectr: 'healthcare' }), 'ab_test_config.json#/experiments/career_model_ab/overrides/0/match/sectr'],
    ['ab_test_config.json', 'an override sector not in slug form', (j) => (j.experiments.career_model_ab.overrides[0].match = { sector: 'Healthcare' }), 'ab_test_config.json#/experiments/career_model_ab/overrides/0/match/sector'],
    ['ab_test_config.json', 'an override degree level the input schema lacks', (j) => (j.experiments.career_model_ab.overrides[0].match = { degree_level: 'phd' }), 'ab_test_config.json#/experiments/career_model_ab/overrides/0/match/degree_level'],
    ['ab_test_config.json', 'an override experience band that is none', (j) => (j.experiments.career_model_ab.overrides[0].match = { experience_band: '5-10' }), 'ab_test_config.json#/experiments/career_model_ab/overrides/0/match/experience_band'],
    ['features/career_path_navigator.json', 'more output than the models allow', (j) => (j.output.max_output_tokens = 9000), 'features/career_path_navigator.json#/output/max_output_tokens'],
  ];
  test.each(cases)('%s with %s', (file, _what, change, path) => {
    const t = fresh();
    t.edit(file, change);
    const e = loadError(t.dir);
    expect(e.code).toBe('invalid_config');
    expect(e.details.map((d) => d.path)).toContain(path);
    expect(e.message).toContain('.json');
  });
});
