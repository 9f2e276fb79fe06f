/**
 * Rules a JSON Schema cannot express because they span files or compare values: references
 * between files, prompt placeholders, and input schemas that must compile. Pure: returns the
 * problems found, each naming its file and JSON pointer, and leaves throwing to the loader.
 */
import { isGatewayError, type ErrorDetail } from '../errors/index.ts';
import { assertPacingCurve } from '../budget/pacing.ts';
import { pacingCurveOf } from '../budget/pacingDecision.ts';
import { createAjv } from './ajv.ts';
import { matchProblems } from '../features/category.ts';
import type { GatewayConfig, FeatureConfig } from './types.ts';

const PROVIDERS = 'provider_settings.json';
const AB = 'ab_test_config.json';
const LIMITS = 'rate_limits.json';

/** One JSON-pointer segment (RFC 6901): model names may hold `/`. */
function esc(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Matches `{{ path.to.field }}` in a prompt template; group 1 is the dotted path. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;

/** The dotted paths a template refers to, in order of appearance, without duplicates. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
}

/** Every cross-file or cross-field problem in an otherwise schema-valid config; [] when sound. */
export function crossCheck(config: GatewayConfig, featureFiles: Record<string, string> = {}): ErrorDetail[] {
  return [
    ...checkProviders(config),
    ...checkExperiments(config),
    ...checkRateLimits(config),
    ...Object.values(config.features).flatMap((f) => checkFeature(config, f, featureFiles[f.name] ?? `features/${f.name}.json`)),
  ];
}

function checkProviders({ providers: file }: GatewayConfig): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const [name, p] of Object.entries(file.providers)) {
    if (p.retry.initial_delay_ms > p.retry.max_delay_ms) {
      out.push({ path: `${PROVIDERS}#/providers/${name}/retry/initial_delay_ms`, message: 'must not exceed max_delay_ms' });
    }
    for (const [model, m] of Object.entries(p.models)) {
      const dates = m.prices.map((price) => price.effective_from);
      if (new Set(dates).size !== dates.length) {
        out.push({ path: `${PROVIDERS}#/providers/${name}/models/${esc(model)}/prices`, message: 'two price periods share an effective_from date' });
      }
    }
  }
  for (const [from, targets] of Object.entries(file.failover)) {
    if (!file.providers[from]) {
      out.push({ path: `${PROVIDERS}#/failover/${from}`, message: `names provider '${from}', which is not under providers` });
    }
    targets.forEach((to, i) => {
      if (!file.providers[to]) {
        out.push({ path: `${PROVIDERS}#/failover/${from}/${i}`, message: `failover target '${to}' is not under providers` });
      } else if (to === from) {
        out.push({ path: `${PROVIDERS}#/failover/${from}/${i}`, message: 'a provider cannot fail over to itself' });
      }
    });
  }
  return out;
}

function checkExperiments(config: GatewayConfig): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const [id, exp] of Object.entries(config.abTests.experiments)) {
    const at = `${AB}#/experiments/${id}`;
    if (!config.features[exp.feature]) {
      out.push({ path: `${at}/feature`, message: `feature '${exp.feature}' has no file features/${exp.feature}.json` });
    }
    const names = new Set<string>();
    exp.variants.forEach((v, i) => {
      if (names.has(v.name)) out.push({ path: `${at}/variants/${i}/name`, message: `variant name '${v.name}' is used twice` });
      names.add(v.name);
      const provider = config.providers.providers[v.provider];
      if (!provider) {
        out.push({ path: `${at}/variants/${i}/provider`, message: `provider '${v.provider}' is not in ${PROVIDERS}` });
      } else if (!provider.models[v.model]) {
        out.push({ path: `${at}/variants/${i}/model`, message: `model '${v.model}' is not listed under provider '${v.provider}' in ${PROVIDERS}` });
      }
    });
    if (exp.variants.every((v) => v.weight === 0)) {
      out.push({ path: `${at}/variants`, message: 'at least one variant needs a weight above 0' });
    }
    const feature = Object.hasOwn(config.features, exp.feature) ? config.features[exp.feature] : undefined;
    exp.variants.forEach((v, i) => {
      if (v.prompt_version !== undefined && feature && !Object.hasOwn(feature.prompts.versions, v.prompt_version)) {
        out.push({ path: `${at}/variants/${i}/prompt_version`, message: `prompt version '${v.prompt_version}' is not under prompts.versions of features/${exp.feature}.json` });
      }
    });
    if (exp.starts_at !== undefined && exp.ends_at !== undefined && Date.parse(exp.starts_at) >= Date.parse(exp.ends_at)) {
      out.push({ path: `${at}/ends_at`, message: 'must be later than starts_at' });
    }
    exp.overrides.forEach((o, i) => {
      // A misspelt key or value would be accepted and never match: the override would silently do nothing.
      for (const problem of feature ? matchProblems(o.match, feature.input_schema) : []) {
        out.push({ path: `${at}/overrides/${i}/match/${esc(problem.key)}`, message: problem.message });
      }
      for (const name of Object.keys(o.weights)) {
        if (!names.has(name)) out.push({ path: `${at}/overrides/${i}/weights/${esc(name)}`, message: `'${name}' is not a variant of this experiment` });
      }
      if (Object.values(o.weights).every((w) => w === 0)) {
        out.push({ path: `${at}/overrides/${i}/weights`, message: 'at least one weight must be above 0' });
      }
    });
  }
  return out;
}

function checkRateLimits(config: GatewayConfig): ErrorDetail[] {
  const out = Object.keys(config.rateLimits.providers)
    .filter((name) => !config.providers.providers[name])
    .map((name) => ({ path: `${LIMITS}#/providers/${name}`, message: `provider '${name}' is not in ${PROVIDERS}` }));
  const pacing = config.rateLimits.budget.pacing;
  if (pacing) {
    // The schema checks the shape; the curve's own check (all weights 0) is pacing.ts's, with its stable code.
    try {
      assertPacingCurve(pacingCurveOf(pacing.curve));
    } catch (e) {
      if (!isGatewayError(e)) throw e;
      out.push({ path: `${LIMITS}#/budget/pacing/curve`, message: `${e.code}: ${e.message}` });
    }
  }
  return out;
}

function checkFeature(config: GatewayConfig, f: FeatureConfig, file: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const experiment = config.abTests.experiments[f.experiment];
  if (!experiment) {
    out.push({ path: `${file}#/experiment`, message: `experiment '${f.experiment}' is not in ${AB}` });
  } else {
    for (const v of experiment.variants) {
      const limit = config.providers.providers[v.provider]?.models[v.model]?.max_output_tokens;
      if (limit !== undefined && f.output.max_output_tokens > limit) {
        out.push({ path: `${file}#/output/max_output_tokens`, message: `exceeds the ${limit} tokens model '${v.model}' (variant '${v.name}') can produce` });
      }
    }
  }
  if (!f.prompts.versions[f.prompts.active]) {
    out.push({ path: `${file}#/prompts/active`, message: `prompt version '${f.prompts.active}' is not under prompts.versions` });
  }
  if (f.cache.stale_ttl_seconds !== 0 && f.cache.stale_ttl_seconds < f.cache.ttl_seconds) {
    out.push({ path: `${file}#/cache/stale_ttl_seconds`, message: 'must be 0 (no stale answers) or at least ttl_seconds' });
  }
  if ('$id' in f.input_schema) {
    // The API caches compiled schemas in one ajv, which refuses a second schema with the same $id.
    out.push({ path: `${file}#/input_schema/$id`, message: 'must be left out; the feature name identifies the schema' });
  }
  try {
    createAjv().compile(f.input_schema);
  } catch (e) {
    out.push({ path: `${file}#/input_schema`, message: `does not compile: ${(e as Error).message}` });
    return out;
  }
  const fields = new Set(Object.keys((f.input_schema['properties'] ?? {}) as Record<string, unknown>));
  for (const [version, prompt] of Object.entries(f.prompts.versions)) {
    for (const path of placeholders(prompt.user_template)) {
      const top = path.split('.')[0] ?? path;
      if (!fields.has(top)) {
        out.push({ path: `${file}#/prompts/versions/${version}/user_template`, message: `placeholder {{${path}}} names no input_schema property` });
      }
    }
  }
  // A misspelt personal field would leave the real one in clear for viewers.
  f.privacy?.personal_fields.forEach((path, i) => {
    const [head, top] = path.split('.');
    if (head === 'input' && top !== undefined && !fields.has(top)) out.push({ path: `${file}#/privacy/personal_fields/${i}`, message: `'${path}' names no input_schema property` });
  });
  f.cache.key_fields.forEach((path, i) => {
    const top = path.split('.')[0] ?? path;
    if (!fields.has(top)) out.push({ path: `${file}#/cache/key_fields/${i}`, message: `'${path}' names no input_schema property` });
  });
  if (f.cache.enabled) {
    // A field that shapes the prompt but not the cache key would serve one user's answer to another:
    // every version in use counts, the active one and those the experiment's variants name.
    const inUse = new Set([f.prompts.active, ...(experiment?.variants ?? []).map((v) => v.prompt_version ?? f.prompts.active)]);
    const uncovered = [...inUse].flatMap((version) => placeholders(f.prompts.versions[version]?.user_template ?? '')).filter(
      (path) => !f.cache.key_fields.some((k) => path === k || path.startsWith(`${k}.`)),
    );
    if (uncovered.length > 0) {
      out.push({ path: `${file}#/cache/key_fields`, message: `must cover every field the prompts in use (active and variants') use; missing: ${[...new Set(uncovered)].join(', ')}` });
    }
  }
  return out;
}
