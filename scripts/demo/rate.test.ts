import { describe, expect, it } from 'vitest';
import { rateAnswers } from './rate.ts';

describe('rateAnswers', () => {
  const jobs = [
    { id: 'j2', status: 'completed', experiment: { variant: 'claude' }, metadata: { request_number: 2 } },
    { id: 'j0', status: 'completed', experiment: { variant: 'gpt4' }, metadata: { request_number: 0 } },
    { id: 'j1', status: 'failed', experiment: { variant: 'gpt4' }, metadata: { request_number: 1 } },
    { id: 'j3', status: 'completed', experiment: null, metadata: { request_number: 3 } },
  ];

  async function ratings(order: typeof jobs) {
    const sent: [string, number][] = [];
    const rated = await rateAnswers({ feedback: async (id, body) => void sent.push([id, body.rating]) }, order);
    return { rated, sent: sent.sort(([a], [b]) => a.localeCompare(b)) };
  }

  it('rates each completed job once, 1 to 5 stars, the same whatever order the jobs finished in', async () => {
    const first = await ratings(jobs);
    expect(first.rated).toBe(3);
    expect(first.sent.map(([id]) => id)).toEqual(['j0', 'j2', 'j3']);
    expect(first.sent.every(([, r]) => Number.isInteger(r) && r >= 1 && r <= 5)).toBe(true);
    expect(await ratings([...jobs].reverse())).toEqual(first);
  });
});
