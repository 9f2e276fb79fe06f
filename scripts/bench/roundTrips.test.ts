import { describe, expect, it } from 'vitest';
import { backgroundReason, gatewayTrips, jobRoundTrips, label, longestChain, median, roundTrips, sequence, traceJob, type TraceRecord } from './roundTrips.ts';

const rec = (cmd: string, start: number, end: number, over: Partial<TraceRecord> = {}): TraceRecord => ({ proc: 'worker', conn: 'worker', cmd, start, end, ok: true, ...over });

describe('roundTrips', () => {
  it('merges overlapping and touching commands, keeps sequential ones apart', () => {
    const trips = roundTrips([rec('b', 2, 4), rec('a', 0, 1), rec('c', 3, 6), rec('d', 6, 7), rec('e', 8, 9)]);
    expect(trips.map((t) => t.cmds)).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    expect(trips[1]).toMatchObject({ start: 2, end: 7 });
  });

  it('lets a long command swallow later short ones that start before it ends', () => {
    expect(roundTrips([rec('long', 0, 10), rec('x', 2, 3), rec('y', 5, 6), rec('z', 11, 12)]).length).toBe(2);
  });

  it('answers nothing for no commands', () => {
    expect(roundTrips([])).toEqual([]);
  });
});

describe('gatewayTrips', () => {
  it("leaves out the trips that carry the queue's fetch or finish, with what rides along with them", () => {
    const trips = roundTrips([rec('moveToActive', 0, 1), rec('cacheLockOrRead', 2, 3), rec('gatewayBudgetReserve', 2, 3), rec('breakerAdmit', 4, 5), rec('addPrioritizedJob', 6, 7), rec('moveToFinished', 6, 8)]);
    expect(trips).toHaveLength(4);
    expect(gatewayTrips(trips).map(label)).toEqual(['cacheLockOrRead+gatewayBudgetReserve', 'breakerAdmit']);
  });
});

describe('jobRoundTrips', () => {
  it('counts the longest chain when a fire-and-forget command merged two steps into one busy period', () => {
    // settle (10-12) is sent after the admit answered; a background incr (9-13) stretches the busy
    // period over it and over the finish (12.5-14): three periods, but a chain of five.
    const worker = [rec('moveToActive', 0, 1), rec('cacheLockOrRead', 2, 3), rec('breakerAdmit', 4, 5), rec('incr', 9, 13), rec('gatewayBudgetSettle', 10, 12), rec('moveToFinished', 12.5, 14)];
    const workerTrips = roundTrips(worker);
    expect(workerTrips).toHaveLength(4);
    expect(jobRoundTrips({ worker, workerTrips })).toEqual({ all: 5, gateway: 3 });
  });
});

describe('longestChain', () => {
  it('counts the steps each sent after the one before answered', () => {
    expect(longestChain([rec('a', 0, 1), rec('b', 2, 3), rec('c', 2.1, 3.2), rec('d', 4, 5)])).toBe(3);
    expect(longestChain([])).toBe(0);
  });

  it('is not shortened by a fire-and-forget command that outlasts its step', () => {
    // settle answers at 3, then addJob is sent; an unawaited hincrby sent at 2.5 answers only at 6.
    const records = [rec('reserve', 0, 1), rec('settle', 2, 3), rec('hincrby', 2.5, 6), rec('addJob', 3.5, 4.5)];
    expect(roundTrips(records).length).toBe(2);
    expect(longestChain(records)).toBe(3);
  });
});

describe('label and sequence', () => {
  it('leaves out MULTI/EXEC and counts repeats', () => {
    const [trip] = roundTrips([rec('multi', 0, 1), rec('hincrby', 0, 1), rec('hincrby', 0, 1), rec('expire', 0, 1), rec('exec', 0, 1)]);
    expect(label(trip!)).toBe('hincrby×2+expire');
    expect(sequence(roundTrips([rec('moveToActive', 0, 1), rec('gatewayBudgetReserve', 2, 3)]))).toBe('1 moveToActive | 2 gatewayBudgetReserve');
  });
});

describe('backgroundReason', () => {
  it.each([
    [rec('bzpopmin', 0, 1, { blocking: true }), 'blocking read'],
    [rec('ping', 0, 1), 'outage probe'],
    [rec('hmget', 0, 1, { key: '{gw-1:config}:current' }), 'config poll'],
    [rec('moveToActive', 0, 1, { took: false }), 'fetch loop (no job)'],
    [rec('extendLock', 0, 1), 'lock renewal / stalled check'],
    [rec('set', 0, 1, { key: '{gw-1}:gateway:epoch' }), 'reconciler'],
    [rec('hgetall', 0, 1, { key: '{gw-1:alerts}:sig:10:1' }), 'alert evaluation'],
    [rec('moveToActive', 0, 1, { key: '{gw-1}:webhooks:wait', took: false }), 'fetch loop (no job)'],
  ])('leaves out %o as %s', (r, why) => {
    expect(backgroundReason(r)).toBe(why);
  });

  it.each([rec('moveToActive', 0, 1, { took: true }), rec('hincrby', 0, 1, { key: '{gw-1:alerts}:sig:10:1' }), rec('gatewayBudgetReserve', 0, 1), rec('hmget', 0, 1, { key: '{gw-1}:budget:day:1' })])(
    'keeps %o',
    (r) => {
      expect(backgroundReason(r)).toBeNull();
    },
  );
});

describe('traceJob', () => {
  it("counts the API's commands during the POST and the worker's until the job's moveToFinished", () => {
    const records = [
      rec('gatewayRateAcquire1', 1, 2, { proc: 'api' }),
      rec('addStandardJob', 3, 4, { proc: 'api' }),
      rec('hmget', 5, 6, { proc: 'api' }), // after the POST answered: a GET, not this job's intake
      rec('ping', 4.5, 4.6, { proc: 'api' }),
      rec('bzpopmin', 0, 4.2, { blocking: true }),
      rec('moveToActive', 4.3, 5, { took: true }),
      rec('moveToActive', 4.4, 5.1, { took: false }),
      rec('gatewayBudgetReserve', 6, 7),
      rec('hmget', 6.5, 6.6, { key: '{p:config}:current' }),
      rec('addPrioritizedJob', 8, 9),
      rec('moveToFinished', 8.5, 9.5),
      rec('cacheLockOrRead', 10, 11), // the follow-on category job
    ];
    const t = traceJob(records, { postStart: 0.5, postEnd: 4.5, idleAt: 20 });
    expect(sequence(t.apiTrips)).toBe('1 gatewayRateAcquire1 | 2 addStandardJob');
    expect(sequence(t.workerTrips)).toBe('1 moveToActive | 2 gatewayBudgetReserve | 3 addPrioritizedJob+moveToFinished');
    expect(t.worker.length).toBe(4);
  });
});

describe('median', () => {
  it('takes the lower middle', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
