/** Fixtures for pipeline unit tests: a paid answer kept in a job, and the BullMQ job carrying it. */
import type { Job } from 'bullmq';
import type { KeptAnswer, LlmJobData } from '../../libs/queue/jobs.ts';

/** The clock of these fixtures: five seconds after the job was created. */
export const FIXTURE_NOW = new Date('2025-03-01T10:00:05.000Z');

/** A GPT-4 answer paid under hold `job-1:1`, with `overrides` applied. */
export function makeKeptAnswer(overrides: Partial<KeptAnswer> = {}): KeptAnswer {
  return {
    holdId: 'job-1:1',
    costMicros: 12_345,
    servedBy: 'provider',
    cache: 'miss',
    degraded: false,
    attempts: [],
    provider: 'openai',
    model: 'gpt-4',
    variant: 'gpt4',
    promptVersion: 'v1',
    text: 'a paid plan',
    inputTokens: 300,
    outputTokens: 200,
    cachedInputTokens: 0,
    finishReason: 'stop',
    providerLatencyMs: 900,
    startedAt: FIXTURE_NOW.toISOString(),
    ...overrides,
  };
}

/** A job `id` on its first run, with a callback, `metadata`, and `answer` kept in its data when given. */
export function makeAnsweredJob(id: string, answer: KeptAnswer | undefined, metadata: Record<string, unknown> | null = null): Job<LlmJobData> {
  const data: LlmJobData = {
    clientId: 'demo',
    feature: 'career_path_navigator',
    input: { current_role: 'Analyst', years_experience: 3, target_roles: ['Data Scientist'], skills: ['sql'], education: { degree: 'BSc', field: 'Maths' } },
    userId: 'u-1',
    callbackUrl: 'https://example.com/hook',
    metadata,
    createdAt: '2025-03-01T10:00:00.000Z',
    ...(answer ? { answer } : {}),
  };
  return { id, data, attemptsMade: 0, attemptsStarted: 1, processedOn: Date.parse('2025-03-01T10:00:01.000Z'), opts: { attempts: 3 } } as unknown as Job<LlmJobData>;
}
