import { describe, expect, test } from 'vitest';
import { describeTarget, nodeUrl, parseClusterNodes } from './client.ts';

describe('cluster targets', () => {
  test('a node URL keeps the credentials and TLS of REDIS_URL', () => {
    expect(nodeUrl('rediss://user:p%40ss@ignored:6379/2', { host: '10.0.0.5', port: 7001 })).toBe('rediss://user:p%40ss@10.0.0.5:7001');
    expect(nodeUrl('redis://127.0.0.1:6379', { host: '::1', port: 7002 })).toBe('redis://[::1]:7002');
  });

  test('a cluster is described by its nodes, never by the URL that carries the password', () => {
    expect(describeTarget({ url: 'redis://:secret@x:1', clusterNodes: parseClusterNodes('a:1,b:2') })).toBe('the Redis Cluster at a:1,b:2');
  });

  test('an empty list is refused', () => {
    expect(() => parseClusterNodes(' , ')).toThrow(/at least one host:port/);
  });
});
