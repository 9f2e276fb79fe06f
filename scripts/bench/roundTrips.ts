/**
 * Pure part of the round-trip trace (see redisTrace.ts, the preload that records, and trace.ts, the
 * bench phase that runs jobs one at a time): which recorded commands belong to a job, and how many
 * sequential round trips they make. Commands whose [sent, answered] intervals overlap were in
 * flight together (one pipeline, or awaited side by side) and cost one round trip.
 */

/** A Redis command as the trace preload (redisTrace.ts) records it. Times are wall-clock ms. */
export interface TraceRecord {
  /** The process: `api` or `worker`. */
  proc: string;
  /** The ioredis connection's name. */
  conn: string;
  /** The command, lower case, or the Lua script's name for EVAL/EVALSHA. */
  cmd: string;
  start: number;
  end: number;
  ok: boolean;
  /** The first key, if any (at most 160 characters). */
  key?: string;
  /** A command that waits on the server for something to happen (BZPOPMIN, XREAD BLOCK, ...). */
  blocking?: boolean;
  /** moveToActive only: whether it took a job (false: the worker's fetch loop found none). */
  took?: boolean;
}

/** Commands that block on the server until data arrives or a timeout passes. */
export const BLOCKING_COMMANDS: ReadonlySet<string> = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof']);

const CONNECTION_SETUP = new Set(['hello', 'client', 'info', 'config', 'select', 'quit', 'auth']);
const BULLMQ_TIMERS = new Set(['extendLock', 'extendLocks', 'moveStalledJobsToWait']);

/**
 * What a job's count leaves out, and why. None of it is on a job's path: it runs on timers or waits
 * for work whether or not a job is in flight, so counting it would charge idle time to the job.
 * - blocking reads (BZPOPMIN on a queue's marker, XREAD BLOCK on the event stream): a worker waiting
 *   for work, not doing it;
 * - PING: the outage probe each connection sends every second;
 * - connection setup (HELLO, CLIENT, INFO, CONFIG, SELECT, QUIT, AUTH);
 * - BullMQ's timers: lock renewals (extendLock(s)) and stalled-job checks (moveStalledJobsToWait);
 * - a moveToActive that took no job: the worker's free concurrency slots asking for more work;
 * - the config poll (HMGET of `…:config}:current`, every CONFIG_SYNC_POLL_MS) and publishConfig;
 * - the reaper of crashed workers' budget holds (gatewayBudgetReap, every 5 s);
 * - the reconciler's epoch mark (`…:gateway:epoch`, every 5 s), which detects a Redis that lost data;
 * - the periodic alert evaluation (the `alert-eval`/`alert-notify` queues and HGETALL of the
 *   `…:alerts}` signal counters; a finished job's own signal, an HINCRBY, still counts);
 * - the webhook queue's fetch loop (`…:webhooks:` keys: no job of the bench asks for a webhook).
 */
export function backgroundReason(r: TraceRecord): string | null {
  if (r.blocking) return 'blocking read';
  if (r.cmd === 'ping') return 'outage probe';
  if (CONNECTION_SETUP.has(r.cmd)) return 'connection setup';
  if (BULLMQ_TIMERS.has(r.cmd)) return 'lock renewal / stalled check';
  if (r.cmd === 'moveToActive' && r.took === false) return 'fetch loop (no job)';
  const key = r.key ?? '';
  if (key.endsWith(':config}:current')) return 'config poll';
  if (r.cmd === 'gatewayBudgetReap') return 'reaper';
  if (key.endsWith(':gateway:epoch')) return 'reconciler';
  if (/:alert-(eval|notify):/.test(key) || (r.cmd === 'hgetall' && key.includes(':alerts}'))) return 'alert evaluation';
  if (key.includes(':webhooks:')) return 'webhook queue';
  return null;
}

/** Commands in flight together: one round trip. */
export interface RoundTrip {
  start: number;
  end: number;
  cmds: string[];
}

/** Merges commands whose intervals overlap (or touch) into round trips, in time order. */
export function roundTrips(records: readonly Pick<TraceRecord, 'cmd' | 'start' | 'end'>[]): RoundTrip[] {
  const sorted = [...records].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: RoundTrip[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) {
      last.end = Math.max(last.end, r.end);
      last.cmds.push(r.cmd);
    } else {
      out.push({ start: r.start, end: r.end, cmds: [r.cmd] });
    }
  }
  return out;
}

/** The queue's own scripts a job waits on whatever the gateway does: BullMQ taking the job and finishing it. */
const QUEUE_LIFECYCLE = new Set(['moveToActive', 'moveToFinished']);

/**
 * The gateway's own round trips: those without the queue's fetch or finish in them. Any design on
 * a BullMQ queue pays those two; what rides along with them (a background enqueue sent together
 * with the finish) adds no wait.
 */
export function gatewayTrips(trips: readonly RoundTrip[]): RoundTrip[] {
  return trips.filter((t) => !t.cmds.some((c) => QUEUE_LIFECYCLE.has(c)));
}

/**
 * The worker's round trips for one job, counted the stricter of two ways: busy periods (which a
 * fire-and-forget command can merge by stretching one until the next step is sent) and the longest
 * chain of commands each sent after the previous answered. `gateway` leaves out the queue's own
 * fetch and finish, as gatewayTrips() does.
 */
export function jobRoundTrips(job: Pick<JobTrace, 'worker' | 'workerTrips'>): { all: number; gateway: number } {
  const queueTrips = job.workerTrips.length - gatewayTrips(job.workerTrips).length;
  const all = Math.max(job.workerTrips.length, longestChain(job.worker));
  return { all, gateway: all - queueTrips };
}

/**
 * The longest chain of commands each sent after the previous one was answered: the round trips a
 * job waits for if every command depended on all those answered before it was sent. Unlike the busy
 * periods of roundTrips(), a command nobody waits for (fire and forget) cannot hide the next step by
 * stretching a busy period until that step is sent; it can still add one when it falls alone in a gap.
 */
export function longestChain(records: readonly Pick<TraceRecord, 'start' | 'end'>[]): number {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const depth: number[] = [];
  let longest = 0;
  sorted.forEach((r, i) => {
    let before = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.end < r.start) before = Math.max(before, depth[j]!);
    depth[i] = before + 1;
    longest = Math.max(longest, depth[i]);
  });
  return longest;
}

/** `budgetReserve+hincrby×2`: a round trip's commands, MULTI/EXEC left out, repeats counted. */
export function label(trip: RoundTrip): string {
  const counts = new Map<string, number>();
  for (const c of trip.cmds) if (c !== 'multi' && c !== 'exec') counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size === 0) return trip.cmds.join('+');
  return [...counts].map(([c, n]) => (n > 1 ? `${c}×${n}` : c)).join('+');
}

/** `1 moveToActive | 2 cacheLockOrRead | ...`. */
export function sequence(trips: readonly RoundTrip[]): string {
  return trips.map((t, i) => `${i + 1} ${label(t)}`).join(' | ');
}

/** When the bench sent one job's POST and when it got the answer, and when the system was idle again (wall-clock ms). */
export interface JobWindow {
  postStart: number;
  postEnd: number;
  idleAt: number;
}

/** One job's commands and round trips, per process. */
export interface JobTrace {
  api: TraceRecord[];
  worker: TraceRecord[];
  apiTrips: RoundTrip[];
  workerTrips: RoundTrip[];
}

/**
 * The job's commands: the API's while it answered the POST; the worker's from the POST until it sent
 * the job's moveToFinished (included). Later commands belong to work the job left behind, such as the
 * low-priority job that writes its category's generic answer, which is a job of its own.
 */
export function traceJob(records: readonly TraceRecord[], w: JobWindow): JobTrace {
  const own = records.filter((r) => backgroundReason(r) === null);
  const api = own.filter((r) => r.proc === 'api' && r.start >= w.postStart && r.start <= w.postEnd);
  const during = own.filter((r) => r.proc === 'worker' && r.start >= w.postStart && r.start < w.idleAt).sort((a, b) => a.start - b.start);
  const finish = during.find((r) => r.cmd === 'moveToFinished');
  const worker = finish ? during.filter((r) => r.start <= finish.start) : during;
  return { api, worker, apiTrips: roundTrips(api), workerTrips: roundTrips(worker) };
}

/** Counts of left-out commands by reason, for the report. */
export function backgroundCounts(records: readonly TraceRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const why = backgroundReason(r);
    if (why) out[why] = (out[why] ?? 0) + 1;
  }
  return out;
}

/** The median of `values` (the lower middle one for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
