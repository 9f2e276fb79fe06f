/**
 * A fair experiment: the same feature settings reach both providers as the same generation
 * parameters. Both adapters call their official SDK against the simulator, which records what
 * each provider received in one normalised shape.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSimulator, type Simulator } from '../../apps/simulator/server.ts';
import type { FeatureConfig } from '../config/types.ts';
import { AnthropicProvider } from './anthropic.ts';
import { OpenAiProvider } from './openai.ts';
import { generationParams } from './params.ts';

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, knobs: { seed: 7 } });
});

afterAll(async () => {
  await sim.close();
});

const prompt = { system: 'You are an honest career counsellor.', user: 'Current role: Nurse\nTarget sector: Healthcare' };

async function receivedBoth(output: FeatureConfig['output']) {
  sim.reset();
  const params = generationParams(output);
  const openai = new OpenAiProvider('openai', `${sim.url}/v1`, 'test');
  const anthropic = new AnthropicProvider('anthropic', sim.url, 'test');
  await openai.complete({ ...params, ...prompt, model: 'gpt-4', jobId: 'fair-openai', timeoutMs: 5000 });
  await anthropic.complete({ ...params, ...prompt, model: 'claude-3-5-sonnet-20241022', jobId: 'fair-anthropic', timeoutMs: 5000 });
  const { calls } = sim.received();
  const of = (provider: string) => {
    const call = calls.find((c) => c.provider === provider);
    if (!call) throw new Error(`${provider} received no call`);
    const { provider: _p, model: _m, job_id: _j, at: _a, ...generation } = call;
    return generation;
  };
  return { openai: of('openai'), anthropic: of('anthropic') };
}

describe('both adapters send identical generation parameters', () => {
  test('every parameter set: system, user, temperature, top_p, max tokens, stop sequences', async () => {
    const { openai, anthropic } = await receivedBoth({ max_output_tokens: 800, temperature: 0.4, top_p: 0.9, stop: ['\n\nEND', '###'] });
    expect(openai).toEqual({ ...prompt, temperature: 0.4, top_p: 0.9, max_tokens: 800, stop: ['\n\nEND', '###'] });
    expect(anthropic).toEqual(openai);
  });

  test('the shipped feature (temperature only): Claude gets the temperature too, not its default 1.0', async () => {
    const { openai, anthropic } = await receivedBoth({ max_output_tokens: 800, temperature: 0.4 });
    expect(anthropic).toEqual(openai);
    expect(anthropic).toMatchObject({ temperature: 0.4, top_p: null, max_tokens: 800, stop: [] });
  });

  test('a temperature of 0 is sent, not dropped as falsy', async () => {
    const { openai, anthropic } = await receivedBoth({ max_output_tokens: 50, temperature: 0 });
    expect([openai.temperature, anthropic.temperature]).toEqual([0, 0]);
  });
});
