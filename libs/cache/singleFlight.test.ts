import { describe, expect, test } from 'vitest';
import { singleFlight, type FlightBackend, type FlightListener, type FlightResult, type FlightSignal } from './singleFlight.ts';

/** An in-memory FlightBackend: one process's view of a shared store, with call counts. */
function memoryBackend(): FlightBackend<string> & { values: Map<string, string>; locks: Map<string, string>; probes: number; failWrites: boolean } {
  const listeners = new Set<(s: FlightSignal<string>) => void>();
  const signal = (s: FlightSignal<string>): void => listeners.forEach((l) => l(s));
  return {
    values: new Map(),
    locks: new Map(),
    probes: 0,
    failWrites: false,
    async probe(key, token) {
      this.probes++;
      const v = this.values.get(key);
      if (v !== undefined) return { kind: 'hit', value: v };
      if (!this.locks.has(key)) {
        this.locks.set(key, token);
        return { kind: 'leader' };
      }
      return { kind: 'follower', lockTtlMs: 10_000 };
    },
    async complete(key, token, value) {
      if (this.failWrites) throw new Error('store down');
      this.values.set(key, value);
      if (this.locks.get(key) === token) this.locks.delete(key);
      signal({ kind: 'done', value });
    },
    async abandon(key, token) {
      if (this.locks.get(key) === token) this.locks.delete(key);
      signal({ kind: 'failed' });
    },
    async listen(): Promise<FlightListener<string>> {
      const queue: FlightSignal<string>[] = [];
      let wake: (() => void) | undefined;
      const onSignal = (s: FlightSignal<string>): void => {
        queue.push(s);
        wake?.();
      };
      listeners.add(onSignal);
      return {
        next: async (ms) => {
          if (!queue.length) await new Promise<void>((r) => ((wake = r), setTimeout(r, ms)));
          return queue.shift() ?? null;
        },
        close: () => listeners.delete(onSignal),
      };
    },
  };
}

const options = (backend: FlightBackend<string>) => ({ backend, flights: new Map<string, Promise<FlightResult<string>>>(), lockTtlMs: 10_000, waitTimeoutMs: 10_000 });

describe('singleFlight', () => {
  test('concurrent calls in one process share one probe and one computation', async () => {
    const backend = memoryBackend();
    const opts = options(backend);
    let calls = 0;
    const compute = async (): Promise<string> => (calls++, 'v');
    const results = await Promise.all(Array.from({ length: 10 }, () => singleFlight('k', compute, opts)));
    expect(calls).toBe(1);
    expect(backend.probes).toBe(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['miss', ...Array<string>(9).fill('shared')]);
    expect(results.every((r) => r.value === 'v')).toBe(true);
    expect(opts.flights.size).toBe(0);
    expect(backend.locks.size).toBe(0);
  });

  test('a cached value is a hit for every caller', async () => {
    const backend = memoryBackend();
    backend.values.set('k', 'cached');
    const opts = options(backend);
    const results = await Promise.all([singleFlight('k', async () => 'x', opts), singleFlight('k', async () => 'x', opts)]);
    expect(results).toEqual([
      { value: 'cached', outcome: 'hit', shared: true },
      { value: 'cached', outcome: 'hit', shared: true },
    ]);
  });

  test("a failed flight's error goes to its caller only; one joiner recomputes for the rest", async () => {
    const backend = memoryBackend();
    const opts = options(backend);
    const failing = singleFlight('k', async () => Promise.reject(new Error('boom')), opts);
    let calls = 0;
    const joiners = Array.from({ length: 5 }, () => singleFlight('k', async () => (calls++, 'retry'), opts));
    await expect(failing).rejects.toThrow('boom');
    const results = await Promise.all(joiners);
    expect(calls).toBe(1);
    expect(results.filter((r) => r.outcome === 'miss')).toHaveLength(1);
    expect(results.every((r) => r.value === 'retry')).toBe(true);
  });

  test('a follower in another process takes the value its leader signals', async () => {
    const backend = memoryBackend();
    backend.locks.set('k', 'other-process');
    const pending = singleFlight('k', async () => 'mine', options(backend));
    await new Promise((r) => setTimeout(r, 0));
    await backend.complete('k', 'other-process', 'theirs');
    expect(await pending).toEqual({ value: 'theirs', outcome: 'shared', shared: true });
  });

  test('a failed cache write still returns the value and is reported', async () => {
    const backend = memoryBackend();
    backend.failWrites = true;
    const errors: unknown[] = [];
    const r = await singleFlight('k', async () => 'v', { ...options(backend), onStoreError: (e) => errors.push(e) });
    expect(r).toEqual({ value: 'v', outcome: 'miss', shared: false });
    expect(errors).toHaveLength(1);
  });
});
