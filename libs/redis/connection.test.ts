import { describe, expect, test } from 'vitest';
import { isRedisUnavailable } from './connection.ts';

describe('isRedisUnavailable', () => {
  test.each([
    ['Command timed out', true],
    ['Connection is closed.', true],
    ["Cluster isn't ready and enableOfflineQueue options is false", true],
    ['CLUSTERDOWN The cluster is down', true],
    ['TRYAGAIN Multiple keys request during rehashing of slot', true],
    // A transaction queued on a node that lost its slot in a failover (seen in test/e2e/redisCluster.test.ts).
    ['MOVED 5903 127.0.0.1:32911', true],
    ['ASK 5903 127.0.0.1:32911', true],
    ['ERR MOVED is not a command I know', false],
    ['Too many Cluster redirections. Last error: Error: Connection is closed.', true],
    ["READONLY You can't write against a read only replica.", true],
    ['LOADING Redis is loading the dataset in memory', true],
    ["MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true],
    ['ERR Error running script (call to f_4b1c): @user_script:12: @user_script: 12: -READONLY You can\'t write against a read only replica.', true],
    ['ERR Error running script (call to f_1): @user_script:3: user_script:3: my READONLY flag is wrong', false],
    ["CROSSSLOT Keys in request don't hash to the same slot", false],
    ['ERR unknown command', false],
  ])('%s: %s', (message, expected) => {
    expect(isRedisUnavailable(new Error(message))).toBe(expected);
  });
});
