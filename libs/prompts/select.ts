import type { FeatureConfig, PromptVersion, Variant } from '../config/types.ts';

/**
 * The prompt a variant is served with: its own `prompt_version` when it names one (so an
 * experiment can compare prompt versions on one model), else the feature's active version.
 * The config check guarantees the version exists; a missing one here is a programming error.
 */
export function promptFor(feature: Pick<FeatureConfig, 'name' | 'prompts'>, variant: Pick<Variant, 'prompt_version'>): { version: string; prompt: PromptVersion } {
  const version = variant.prompt_version ?? feature.prompts.active;
  const prompt = Object.hasOwn(feature.prompts.versions, version) ? feature.prompts.versions[version] : undefined;
  if (!prompt) throw new Error(`feature '${feature.name}' has no prompt version '${version}'`);
  return { version, prompt };
}
