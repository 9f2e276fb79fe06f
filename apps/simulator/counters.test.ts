import { describe, expect, it } from 'vitest';
import { CallCounters } from './counters.ts';
import { handleAdmin } from './admin.ts';
import { SimulatorState } from './state.ts';
import { defaultKnobs } from './knobs.ts';

describe('CallCounters timestamps', () => {
  it('keeps each provider’s arrival times, oldest first', () => {
    let now = 1000;
    const counters = new CallCounters({ clock: () => now });
    counters.started('anthropic', 'a');
    now = 1005;
    counters.started('openai', undefined);
    now = 1010;
    counters.started('anthropic', 'b');
    expect(counters.timestamps()).toEqual({ timestamps: { openai: [1005], anthropic: [1000, 1010] } });
  });

  it('keeps only the newest `timestampCapacity` arrivals, in order', () => {
    let now = 0;
    const counters = new CallCounters({ timestampCapacity: 3, clock: () => now });
    for (now = 1; now <= 7; now++) counters.started('openai', undefined);
    expect(counters.timestamps().timestamps.openai).toEqual([5, 6, 7]);
    expect(counters.snapshot().total.openai).toBe(7);
  });

  it('reset forgets the arrival times', () => {
    const counters = new CallCounters({ clock: () => 42 });
    counters.started('openai', 'x');
    counters.reset();
    expect(counters.timestamps()).toEqual({ timestamps: { openai: [], anthropic: [] } });
  });

  it('is served at GET /admin/calls/timestamps; GET /admin/calls is unchanged', () => {
    const state = new SimulatorState(defaultKnobs());
    state.counters.started('anthropic', 'j1');
    const calls = JSON.parse(handleAdmin(state, 'GET', '/admin/calls', '')!.body) as Record<string, unknown>;
    expect(Object.keys(calls).sort()).toEqual(['aborted', 'by_job', 'in_flight', 'total']);
    const reply = handleAdmin(state, 'GET', '/admin/calls/timestamps', '')!;
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as { timestamps: { openai: number[]; anthropic: number[] } };
    expect(body.timestamps.openai).toEqual([]);
    expect(body.timestamps.anthropic).toHaveLength(1);
    expect(handleAdmin(state, 'POST', '/admin/calls/timestamps', '')!.status).toBe(405);
  });
});

describe('CallCounters billed usage', () => {
  it('sums tokens per provider and model, is served at GET /admin/calls/billed, and reset forgets it', () => {
    const state = new SimulatorState(defaultKnobs());
    state.counters.billed('openai', 'gpt-4', 100, 20);
    state.counters.billed('openai', 'gpt-4', 50, 5);
    state.counters.billed('anthropic', 'claude', 7, 3);
    const body = JSON.parse(handleAdmin(state, 'GET', '/admin/calls/billed', '')!.body) as unknown;
    expect(body).toEqual({
      billed: { openai: { 'gpt-4': { calls: 2, input_tokens: 150, output_tokens: 25 } }, anthropic: { claude: { calls: 1, input_tokens: 7, output_tokens: 3 } } },
    });
    state.counters.reset();
    expect(state.counters.billedSnapshot()).toEqual({ billed: { openai: {}, anthropic: {} } });
  });
});
