import { randomUUID } from 'node:crypto';

/**
 * Single flight: identical concurrent requests share one computation (one paid provider call),
 * inside a process (a map of in-flight promises) and across processes (a lock in a shared store,
 * followers woken by a signal). The protocol lives here; FlightBackend carries it out (Redis in
 * responseCache.ts), so the rules can be read and tested apart from the I/O.
 *
 * Failure rule: when a leader's computation throws, its own caller gets the error and the lock is
 * released with a failure signal; exactly one waiting caller (across all processes) then takes the
 * lock and runs its own computation, the others keep waiting on it. Every caller's compute runs at
 * most once, and no caller waits longer than `waitTimeoutMs` before computing by itself.
 */

/** How a caller got its value: `hit` cached before, `shared` from another caller's computation, `miss` computed by this caller. */
export type FlightOutcome = 'hit' | 'shared' | 'miss';

/** A single-flight answer. */
export interface FlightResult<T> {
  value: T;
  outcome: FlightOutcome;
  /** True when this caller's compute did not run (outcome `hit` or `shared`): this caller paid nothing. */
  shared: boolean;
}

/** One look at the shared store. */
export type FlightProbe<T> =
  | { kind: 'hit'; value: T }
  | { kind: 'leader' }
  /** Another caller holds the lock for `lockTtlMs` more milliseconds (-1 when it has no TTL). */
  | { kind: 'follower'; lockTtlMs: number };

/** What a follower hears: the leader's value, or that the leader gave up. */
export type FlightSignal<T> = { kind: 'done'; value: T } | { kind: 'failed' };

/** A follower's subscription to one key's signals. */
export interface FlightListener<T> {
  /** The next signal, or null when none arrives within `ms` milliseconds. */
  next(ms: number): Promise<FlightSignal<T> | null>;
  close(): void;
}

/** The shared store that carries the protocol across processes. */
export interface FlightBackend<T> {
  /** In one round trip: a fresh value, else the lock for `token` (`lockTtlMs` ms), else the holder's remaining time. */
  probe(key: string, token: string, lockTtlMs: number): Promise<FlightProbe<T>>;
  /** Stores the value, signals it to followers, and releases the lock if `token` still holds it. */
  complete(key: string, token: string, value: T): Promise<void>;
  /** Releases the lock if `token` still holds it and signals failure, so that one follower takes over. */
  abandon(key: string, token: string): Promise<void>;
  /** Subscribes to the key's signals; resolves once no later signal can be missed. */
  listen(key: string): Promise<FlightListener<T>>;
}

/** Options of one single-flight call. */
export interface SingleFlightOptions<T> {
  backend: FlightBackend<T>;
  /** This process's flights in progress, by key; share one map per backend (one per process). */
  flights: Map<string, Promise<FlightResult<T>>>;
  /** Milliseconds a leader holds the lock; choose more than the computation's worst case (timeouts x retries), or a second leader may start. */
  lockTtlMs: number;
  /** Milliseconds a follower waits for others before computing by itself. */
  waitTimeoutMs: number;
  /** Called with errors of the store after the value is known (a failed cache write); they never fail the call. Default: ignored. */
  onStoreError?: (err: unknown) => void;
  /** Clock in Unix milliseconds. Default Date.now. */
  now?: () => number;
}

// Wake a follower just after the lock's expiry, not on it, so its probe finds the lock gone.
const EXPIRY_MARGIN_MS = 5;

/**
 * The value for `key`: cached, or from a computation already in flight here or in another process,
 * or from `compute` (run at most once for this call).
 */
export async function singleFlight<T>(key: string, compute: () => Promise<T>, opts: SingleFlightOptions<T>): Promise<FlightResult<T>> {
  for (let existing = opts.flights.get(key); existing; existing = opts.flights.get(key)) {
    try {
      const r = await existing;
      const outcome = r.outcome === 'hit' ? 'hit' : 'shared';
      return { value: r.value, outcome, shared: true };
    } catch {
      // That flight's caller gets its error; we look again, and the first of us to do so leads.
      if (opts.flights.get(key) === existing) opts.flights.delete(key);
    }
  }
  const flight = acrossProcesses(key, compute, opts);
  opts.flights.set(key, flight);
  try {
    return await flight;
  } finally {
    if (opts.flights.get(key) === flight) opts.flights.delete(key);
  }
}

async function acrossProcesses<T>(key: string, compute: () => Promise<T>, opts: SingleFlightOptions<T>): Promise<FlightResult<T>> {
  const { backend, lockTtlMs } = opts;
  const now = opts.now ?? Date.now;
  const token = randomUUID();
  const deadline = now() + opts.waitTimeoutMs;
  const first = await backend.probe(key, token, lockTtlMs);
  if (first.kind === 'hit') return { value: first.value, outcome: 'hit', shared: true };
  if (first.kind === 'leader') return lead(key, token, compute, opts);

  const listener = await backend.listen(key);
  try {
    for (;;) {
      // Look again once subscribed: a leader that finished before we listened is found here.
      const probe = await backend.probe(key, token, lockTtlMs);
      if (probe.kind === 'hit') return { value: probe.value, outcome: 'shared', shared: true };
      if (probe.kind === 'leader') return await lead(key, token, compute, opts);
      const remaining = deadline - now();
      if (remaining <= 0) return await lead(key, token, compute, opts);
      const untilExpiry = probe.lockTtlMs >= 0 ? probe.lockTtlMs + EXPIRY_MARGIN_MS : remaining;
      const signal = await listener.next(Math.min(remaining, untilExpiry));
      if (signal?.kind === 'done') return { value: signal.value, outcome: 'shared', shared: true };
      // A failure signal, the lock's expiry or the deadline: look again.
    }
  } finally {
    listener.close();
  }
}

/** Runs `compute` and publishes its value; also used, without the lock, by a follower past its deadline. */
async function lead<T>(key: string, token: string, compute: () => Promise<T>, opts: SingleFlightOptions<T>): Promise<FlightResult<T>> {
  const onStoreError = opts.onStoreError ?? (() => {});
  let value: T;
  try {
    value = await compute();
  } catch (err) {
    await opts.backend.abandon(key, token).catch(onStoreError);
    throw err;
  }
  // The value is paid for: a failed cache write must not lose it.
  await opts.backend.complete(key, token, value).catch(onStoreError);
  return { value, outcome: 'miss', shared: false };
}
