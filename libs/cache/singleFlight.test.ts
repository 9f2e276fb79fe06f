import { afterEach, describe, expect, test, vi } from 'vitest';
import { singleFlight, type FlightBackend, type FlightListener, type FlightResult, type FlightSignal, type RenewFailure } from './singleFlight.ts';

/**
 * An in-memory FlightBackend: one process's view of a shared store, with call counts. Locks
 * expire on the (fake) clock like Redis PX locks; `renew` extends only the holder's.
 */
function memoryBackend(): FlightBackend<string> & {
  values: Map<string, string>;
  locks: Map<string, { token: string; expiresAt: number }>;
  probes: number;
  renewals: number;
  failWrites: boolean;
  failRenewals: boolean;
} {
  const listeners = new Set<(s: FlightSignal<string>) => void>();
  const signal = (s: FlightSignal<string>): void => listeners.forEach((l) => l(s));
  return {
    values: new Map(),
    locks: new Map(),
    probes: 0,
    renewals: 0,
    failWrites: false,
    failRenewals: false,
    async probe(key, token, lockTtlMs) {
      this.probes++;
      const v = this.values.get(key);
      if (v !== undefined) return { kind: 'hit', value: v };
      const lock = this.locks.get(key);
      if (!lock || lock.expiresAt <= Date.now()) {
        this.locks.set(key, { token, expiresAt: Date.now() + lockTtlMs });
        return { kind: 'leader' };
      }
      return { kind: 'follower', lockTtlMs: lock.expiresAt - Date.now() };
    },
    async complete(key, token, value) {
      if (this.failWrites) throw new Error('store down');
      this.values.set(key, value);
      if (this.locks.get(key)?.token === token) this.locks.delete(key);
      signal({ kind: 'done', value });
    },
    async abandon(key, token) {
      if (this.locks.get(key)?.token === token) this.locks.delete(key);
      signal({ kind: 'failed' });
    },
    async renew(key, token, lockTtlMs) {
      if (this.failRenewals) throw new Error('store down');
      const lock = this.locks.get(key);
      if (!lock || lock.token !== token || lock.expiresAt <= Date.now()) return false;
      this.renewals++;
      lock.expiresAt = Date.now() + lockTtlMs;
      return true;
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
    backend.locks.set('k', { token: 'other-process', expiresAt: Date.now() + 10_000 });
    const pending = singleFlight('k', async () => 'mine', options(backend));
    await new Promise((r) => setTimeout(r, 0));
    await backend.complete('k', 'other-process', 'theirs');
    expect(await pending).toEqual({ value: 'theirs', outcome: 'shared', shared: true });
  });

  test('an aborted leader frees its lock at once, and a follower in another process takes over', async () => {
    const backend = memoryBackend();
    const ctrl = new AbortController();
    const aborted = singleFlight('k', () => new Promise<string>((_, reject) => ctrl.signal.addEventListener('abort', () => reject(new Error('aborted')))), { ...options(backend), signal: ctrl.signal });
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.locks.size).toBe(1);
    // Another process's caller: its own flights map, so it follows through the backend.
    const other = singleFlight('k', async () => 'theirs', options(backend));
    await new Promise((r) => setTimeout(r, 0));
    ctrl.abort('shutting down');
    await expect(aborted).rejects.toThrow('aborted');
    expect(await other).toEqual({ value: 'theirs', outcome: 'miss', shared: false });
  });

  test('an aborted follower stops waiting; the flight goes on for the others', async () => {
    const backend = memoryBackend();
    const opts = options(backend);
    let finish!: (v: string) => void;
    const leader = singleFlight('k', () => new Promise<string>((resolve) => (finish = resolve)), opts);
    const ctrl = new AbortController();
    const local = singleFlight('k', async () => 'mine', { ...opts, signal: ctrl.signal });
    backend.locks.set('k2', { token: 'other-process', expiresAt: Date.now() + 10_000 });
    const remote = singleFlight('k2', async () => 'mine', { ...options(backend), signal: ctrl.signal });
    const joiner = singleFlight('k', async () => 'x', opts);
    await new Promise((r) => setTimeout(r, 0));
    ctrl.abort(new Error('shutting down'));
    await expect(local).rejects.toThrow('shutting down');
    await expect(remote).rejects.toThrow('shutting down');
    finish('v');
    expect(await leader).toMatchObject({ value: 'v', outcome: 'miss' });
    expect(await joiner).toMatchObject({ value: 'v', outcome: 'shared' });
  });

  test('onFollow runs once for each caller that waits on another computation, never for the leader or a hit', async () => {
    const backend = memoryBackend();
    const here = options(backend);
    const follows: string[] = [];
    let release!: (v: string) => void;
    const leader = singleFlight('k', () => new Promise<string>((r) => (release = r)), { ...here, onFollow: () => follows.push('leader') });
    const joiner = singleFlight('k', async () => 'x', { ...here, onFollow: () => follows.push('joiner') });
    const elsewhere = singleFlight('k', async () => 'y', { ...options(backend), onFollow: () => follows.push('elsewhere') });
    await vi.waitFor(() => expect(follows).toHaveLength(2));
    release('v');
    await Promise.all([leader, joiner, elsewhere]);
    expect(follows.sort()).toEqual(['elsewhere', 'joiner']);
    await singleFlight('k', async () => 'z', { ...here, onFollow: () => follows.push('hit') });
    expect(follows).toHaveLength(2);
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

describe('singleFlight lock liveness (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A compute that counts its calls and answers `value` after `ms` of the fake clock. */
  const slow = (value: string, ms: number) => {
    const c = { calls: 0, fn: async () => (c.calls++, await new Promise((r) => setTimeout(r, ms)), value) };
    return c;
  };
  const liveness = (backend: FlightBackend<string>) => ({ ...options(backend), lockTtlMs: 5000, waitTimeoutMs: 120_000 });

  test('a leader renews its short lock while it computes, so a follower in another process waits and shares', async () => {
    vi.useFakeTimers();
    const backend = memoryBackend();
    const leader = slow('theirs', 30_000);
    const follower = slow('mine', 10);
    const a = singleFlight('k', leader.fn, liveness(backend));
    await vi.advanceTimersByTimeAsync(1);
    const b = singleFlight('k', follower.fn, liveness(backend));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await a).toMatchObject({ value: 'theirs', outcome: 'miss' });
    expect(await b).toEqual({ value: 'theirs', outcome: 'shared', shared: true });
    expect(follower.calls).toBe(0);
    // Every third of 5 s over 30 s.
    expect(backend.renewals).toBeGreaterThanOrEqual(17);
    expect(backend.renewals).toBeLessThanOrEqual(18);
    // Stopped with the flight: no renewal afterwards.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(backend.renewals).toBeLessThanOrEqual(18);
    expect(backend.locks.size).toBe(0);
  });

  test('a dead leader (never renewing) frees its followers within one lock TTL, long before waitTimeoutMs', async () => {
    vi.useFakeTimers();
    const backend = memoryBackend();
    const start = Date.now();
    backend.locks.set('k', { token: 'dead-run', expiresAt: start + 5000 });
    const compute = slow('mine', 100);
    let doneAt = 0;
    const r = singleFlight('k', compute.fn, liveness(backend)).then((x) => ((doneAt = Date.now()), x));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await r).toEqual({ value: 'mine', outcome: 'miss', shared: false });
    expect(compute.calls).toBe(1);
    expect(doneAt - start).toBeLessThanOrEqual(5000 + 100 + 50);
  });

  test('a follower never waits past waitTimeoutMs, even on a lock that stays alive', async () => {
    vi.useFakeTimers();
    const backend = memoryBackend();
    const leader = slow('theirs', 60_000);
    const a = singleFlight('k', leader.fn, liveness(backend));
    await vi.advanceTimersByTimeAsync(1);
    const follower = slow('mine', 10);
    const start = Date.now();
    let doneAt = 0;
    const b = singleFlight('k', follower.fn, { ...liveness(backend), waitTimeoutMs: 20_000 }).then((x) => ((doneAt = Date.now()), x));
    await vi.advanceTimersByTimeAsync(25_000);
    expect(await b).toMatchObject({ value: 'mine', outcome: 'miss' });
    expect(doneAt - start).toBeGreaterThanOrEqual(20_000);
    expect(doneAt - start).toBeLessThan(20_000 + 100);
    await vi.advanceTimersByTimeAsync(40_000);
    await a;
  });

  test('a leader that lost its lock reports it once, stops renewing and still completes', async () => {
    vi.useFakeTimers();
    const backend = memoryBackend();
    const failures: RenewFailure[] = [];
    const compute = slow('v', 20_000);
    const r = singleFlight('k', compute.fn, { ...liveness(backend), onRenewFailure: (f) => failures.push(f) });
    await vi.advanceTimersByTimeAsync(1000);
    backend.locks.set('k', { token: 'successor', expiresAt: Date.now() + 60_000 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await r).toEqual({ value: 'v', outcome: 'miss', shared: false });
    expect(failures).toEqual([{ kind: 'lost' }]);
    expect(backend.renewals).toBe(0);
    // The successor's lock is not the finished leader's to release.
    expect(backend.locks.get('k')?.token).toBe('successor');
  });

  test('a failed renewal is reported and retried at the next interval', async () => {
    vi.useFakeTimers();
    const backend = memoryBackend();
    backend.failRenewals = true;
    const failures: RenewFailure[] = [];
    const r = singleFlight('k', slow('v', 4000).fn, { ...liveness(backend), onRenewFailure: (f) => failures.push(f) });
    await vi.advanceTimersByTimeAsync(2000);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'error' });
    backend.failRenewals = false;
    await vi.advanceTimersByTimeAsync(2000);
    expect(await r).toMatchObject({ outcome: 'miss' });
    expect(backend.renewals).toBe(1);
  });
});
