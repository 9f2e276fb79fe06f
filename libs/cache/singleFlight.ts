import { randomUUID } from 'node:crypto';
import { untilAborted } from '../lifecycle/abort.ts';

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
 *
 * Liveness rule: the lock is short (`lockTtlMs`, seconds) and its leader renews it every third of
 * that while its computation runs, so a leader that dies frees its key within one lock TTL, not
 * after its computation's worst case. Followers wait while the lock lives, and take over when it
 * is gone. A leader that loses its lock (a stall longer than the TTL) still completes: a follower
 * may have started computing meanwhile, which the failure rule already allows.
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
  /** Extends the lock to `lockTtlMs` from now if `token` still holds it; false when it does not. */
  renew(key: string, token: string, lockTtlMs: number): Promise<boolean>;
}

/** Why renewing a lock failed: another caller (or none) holds it now, or the store failed. */
export type RenewFailure = { kind: 'lost' } | { kind: 'error'; err: unknown };

/** Options of one single-flight call. */
export interface SingleFlightOptions<T> {
  backend: FlightBackend<T>;
  /** This process's flights in progress, by key; share one map per backend (one per process). */
  flights: Map<string, Promise<FlightResult<T>>>;
  /** Milliseconds a lock lives unless renewed; its leader renews it every third of this, so a dead leader frees its key this soon. */
  lockTtlMs: number;
  /** Most milliseconds a follower waits for others (a live lock included) before computing by itself; more than the computation's worst case. */
  waitTimeoutMs: number;
  /** Called when a renewal fails; the computation goes on, and a lost lock is not renewed again. Default: ignored. */
  onRenewFailure?: (failure: RenewFailure) => void;
  /** Called with errors of the store after the value is known (a failed cache write); they never fail the call. Default: ignored. */
  onStoreError?: (err: unknown) => void;
  /** Clock in Unix milliseconds. Default Date.now. */
  now?: () => number;
  /**
   * Stops this caller waiting on others' computations (it rejects with the signal's reason; others
   * go on waiting). `compute` must heed it itself: its failure frees the lock as any failure does.
   * @defaultValue none
   */
  signal?: AbortSignal;
  /**
   * Called once, when this caller starts waiting on another caller's computation (in this process
   * or another), before it waits: a caller that reserved something for its own computation can
   * give it back while it waits. @defaultValue none
   */
  onFollow?: () => void;
}

// Wake a follower just after the lock's expiry, not on it, so its probe finds the lock gone.
const EXPIRY_MARGIN_MS = 5;

/**
 * The value for `key`: cached, or from a computation already in flight here or in another process,
 * or from `compute` (run at most once for this call).
 */
export async function singleFlight<T>(key: string, compute: () => Promise<T>, opts: SingleFlightOptions<T>): Promise<FlightResult<T>> {
  const follow = once(opts.onFollow);
  opts = { ...opts, onFollow: follow };
  for (let existing = opts.flights.get(key); existing; existing = opts.flights.get(key)) {
    follow();
    try {
      const r = await untilAborted(existing, opts.signal);
      const outcome = r.outcome === 'hit' ? 'hit' : 'shared';
      return { value: r.value, outcome, shared: true };
    } catch (err) {
      // This caller stopped waiting; the flight goes on for the others.
      if (opts.signal?.aborted) throw err;
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
  if (first.kind === 'leader') return lead(key, token, compute, opts, true);

  opts.onFollow?.();
  const listener = await backend.listen(key);
  try {
    for (;;) {
      // Look again once subscribed: a leader that finished before we listened is found here.
      const probe = await backend.probe(key, token, lockTtlMs);
      if (probe.kind === 'hit') return { value: probe.value, outcome: 'shared', shared: true };
      if (probe.kind === 'leader') return await lead(key, token, compute, opts, true);
      const remaining = deadline - now();
      if (remaining <= 0) return await lead(key, token, compute, opts, false);
      const untilExpiry = probe.lockTtlMs >= 0 ? probe.lockTtlMs + EXPIRY_MARGIN_MS : remaining;
      const signal = await untilAborted(listener.next(Math.min(remaining, untilExpiry)), opts.signal);
      if (signal?.kind === 'done') return { value: signal.value, outcome: 'shared', shared: true };
      // A failure signal, the lock's expiry (renewed, or gone with a dead leader) or the deadline: look again.
    }
  } finally {
    listener.close();
  }
}

/** `fn` callable any number of times, running at most once. */
function once(fn: (() => void) | undefined): () => void {
  let called = false;
  return () => {
    if (called || !fn) return;
    called = true;
    fn();
  };
}

/** Runs `compute` and publishes its value; also used, without the lock (`locked` false), by a follower past its deadline. */
async function lead<T>(key: string, token: string, compute: () => Promise<T>, opts: SingleFlightOptions<T>, locked: boolean): Promise<FlightResult<T>> {
  const onStoreError = opts.onStoreError ?? (() => {});
  const stopRenewing = locked ? renewWhileRunning(key, token, opts) : () => {};
  let value: T;
  try {
    value = await compute();
  } catch (err) {
    stopRenewing();
    await opts.backend.abandon(key, token).catch(onStoreError);
    throw err;
  }
  stopRenewing();
  // The value is paid for: a failed cache write must not lose it.
  await opts.backend.complete(key, token, value).catch(onStoreError);
  return { value, outcome: 'miss', shared: false };
}

/** Renews the lock every third of its TTL until the returned stop() is called, or the lock is lost. */
function renewWhileRunning<T>(key: string, token: string, opts: SingleFlightOptions<T>): () => void {
  const report = opts.onRenewFailure ?? (() => {});
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(() => void renew(), Math.max(1, Math.floor(opts.lockTtlMs / 3)));
  };
  const renew = async (): Promise<void> => {
    try {
      if (!(await opts.backend.renew(key, token, opts.lockTtlMs))) {
        if (!stopped) report({ kind: 'lost' });
        return;
      }
    } catch (err) {
      // Try again next time: a store that hiccups once should not cost the lock.
      if (!stopped) report({ kind: 'error', err });
    }
    if (!stopped) schedule();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
