/**
 * An experiment of three variants, run end to end (api, worker, simulator as processes): prompt v1
 * against prompt v2 on one model (GPT-4), and GPT-4 against Claude on one prompt (v1). What the
 * simulator received shows each job rendered with its variant's own prompt version, and both
 * providers given identical generation parameters.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReceivedCall } from '../../apps/simulator/received.ts';
import { startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';

const V2_SYSTEM = 'You are a blunt career coach. Answer in exactly five numbered steps.';
const V2_MARKER = 'PROMPT V2 -- five steps only.';
const OUTPUT = { max_output_tokens: 700, temperature: 0.3, top_p: 0.9, stop: ['\n\n---'] };

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    editConfig: (c) => {
      c.edit('features/career_path_navigator.json', (j) => {
        j.prompts.versions.v2 = { system: V2_SYSTEM, user_template: `${V2_MARKER}\n${j.prompts.versions.v1.user_template}` };
        j.output = OUTPUT;
      });
      c.edit('ab_test_config.json', (j) =>
        Object.assign(j.experiments.career_model_ab, {
          variants: [
            { name: 'gpt4_v1', provider: 'openai', model: 'gpt-4', weight: 1 },
            { name: 'gpt4_v2', provider: 'openai', model: 'gpt-4', prompt_version: 'v2', weight: 1 },
            { name: 'claude_v1', provider: 'anthropic', model: 'claude-3-5-sonnet-20241022', weight: 1 },
          ],
          overrides: [],
        }),
      );
    },
  });
});

afterAll(async () => {
  await gw?.stop();
});

interface FinishedJob {
  status: string;
  provider: string;
  model: string;
  prompt_version: string;
  served_by: string;
  experiment: { id: string; variant: string } | null;
}

describe('an experiment of prompt versions and models', () => {
  test('each job is answered with its own prompt version, and both providers get identical parameters', async () => {
    const variants = ['gpt4_v1', 'gpt4_v2', 'claude_v1'];
    // Request i has the same input in every arm: only the prompt version or the model differs.
    const submitted = await Promise.all(
      variants.flatMap((variant) => [0, 1, 2].map(async (i) => ({ variant, i, id: await gw.client.submit(submissionFor(variant, i, gw.config.dir)) }))),
    );
    const finished = await gw.client.waitForAll(submitted.map((s) => s.id), { timeoutMs: 60_000 });
    const received = await gw.simulator.received();
    const callOf = (id: string): ReceivedCall => {
      const calls = received.filter((c) => c.job_id === id);
      expect(calls, `calls for job ${id}`).toHaveLength(1);
      return calls[0]!;
    };

    for (const { variant, id } of submitted) {
      const job = finished.get(id) as unknown as FinishedJob;
      expect(job).toMatchObject({ status: 'completed', served_by: 'provider', experiment: { id: 'career_model_ab', variant } });
      expect(job.prompt_version).toBe(variant === 'gpt4_v2' ? 'v2' : 'v1');
      const call = callOf(id);
      expect(call.provider).toBe(variant === 'claude_v1' ? 'anthropic' : 'openai');
      if (variant === 'gpt4_v2') {
        expect(call.system).toBe(V2_SYSTEM);
        expect(call.user.startsWith(V2_MARKER)).toBe(true);
      } else {
        expect(call.system).not.toBe(V2_SYSTEM);
        expect(call.user).not.toContain(V2_MARKER);
      }
      // Every arm gets the feature's generation parameters, whichever provider serves it.
      expect(call).toMatchObject({ temperature: OUTPUT.temperature, top_p: OUTPUT.top_p, max_tokens: OUTPUT.max_output_tokens, stop: OUTPUT.stop });
    }

    // GPT-4 and Claude on prompt v1, same request: everything they received but the model is identical.
    for (const i of [0, 1, 2]) {
      const [gpt, claude] = ['gpt4_v1', 'claude_v1'].map((variant) => {
        const { provider: _p, model: _m, job_id: _j, at: _a, ...generation } = callOf(submitted.find((s) => s.variant === variant && s.i === i)!.id);
        return generation;
      });
      expect(claude).toEqual(gpt);
    }
  });
});
