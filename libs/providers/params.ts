import type { FeatureConfig } from '../config/types.ts';
import type { CompletionRequest } from './types.ts';

/** The generation parameters of a provider call, apart from the prompt itself. */
export type GenerationParams = Pick<CompletionRequest, 'maxOutputTokens' | 'temperature' | 'topP' | 'stop'>;

/**
 * The feature's output settings as one set of generation parameters, built in one place so that
 * every provider of an experiment receives the same ones (a fair comparison).
 */
export function generationParams(output: FeatureConfig['output']): GenerationParams {
  return {
    maxOutputTokens: output.max_output_tokens,
    temperature: output.temperature,
    ...(output.top_p !== undefined ? { topP: output.top_p } : {}),
    ...(output.stop && output.stop.length > 0 ? { stop: output.stop } : {}),
  };
}
