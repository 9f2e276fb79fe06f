import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/index.ts';
import { MAX_RETENTION_DAYS, checkRetentionDays, parseMongoUrl, parseRetentionDays } from './mongoUrl.ts';

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isGatewayError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a GatewayError');
}

describe('parseMongoUrl', () => {
  it.each([
    ['mongodb://127.0.0.1:27017', { url: 'mongodb://127.0.0.1:27017', dbName: null, retentionDays: null }],
    ['mongodb://127.0.0.1:27017/', { url: 'mongodb://127.0.0.1:27017/', dbName: null, retentionDays: null }],
    ['mongodb://h/gateway', { url: 'mongodb://h/gateway', dbName: 'gateway', retentionDays: null }],
    ['mongodb://h/gateway?retention_days=30', { url: 'mongodb://h/gateway', dbName: 'gateway', retentionDays: 30 }],
    ['mongodb://h/?retention_days=0', { url: 'mongodb://h/', dbName: null, retentionDays: 0 }],
    [
      'mongodb://u:p%40ss@db1:27017,db2:27017/gw?replicaSet=rs0&retention_days=7&w=majority',
      { url: 'mongodb://u:p%40ss@db1:27017,db2:27017/gw?replicaSet=rs0&w=majority', dbName: 'gw', retentionDays: 7 },
    ],
    [
      'mongodb+srv://cluster0.example.net/gateway?RETENTION_DAYS=365&authMechanismProperties=SERVICE_NAME:x,CANONICALIZE_HOST_NAME:true',
      {
        url: 'mongodb+srv://cluster0.example.net/gateway?authMechanismProperties=SERVICE_NAME:x,CANONICALIZE_HOST_NAME:true',
        dbName: 'gateway',
        retentionDays: 365,
      },
    ],
    ['MONGODB://h/my%20db#fragment', { url: 'MONGODB://h/my%20db', dbName: 'my db', retentionDays: null }],
    ['  mongodb://h/gw?retention_days=%2090  ', { url: 'mongodb://h/gw', dbName: 'gw', retentionDays: 90 }],
  ])('%s', (input, expected) => {
    expect(parseMongoUrl(input)).toEqual(expected);
  });

  it.each([
    ['mongodb://h/gw?retention_days=abc', 'retention_days'],
    ['mongodb://h/gw?retention_days=-1', 'retention_days'],
    ['mongodb://h/gw?retention_days=1.5', 'retention_days'],
    ['mongodb://h/gw?retention_days=', 'retention_days'],
    ['mongodb://h/gw?retention_days', 'retention_days'],
    [`mongodb://h/gw?retention_days=${MAX_RETENTION_DAYS + 1}`, 'retention_days'],
    ['mongodb://h/gw?retention_days=1&retention_days=2', 'more than once'],
    ['mongodb:///gw', 'no host'],
    ['mongodb://user:pw@/gw', 'no host'],
    ['mongodb://h/%E0%A4%A', 'database name'],
    ['postgres://h/gw', 'not a mongodb'],
  ])('%s is refused (%s)', (input, why) => {
    const e = codeOf(() => parseMongoUrl(input));
    expect(e.code).toBe('invalid_database_url');
    expect(e.message).toContain(why);
  });

  it('never echoes a password', () => {
    const e = codeOf(() => parseMongoUrl('mongodb://admin:hunter2@h/gw?retention_days=x'));
    expect(e.message).not.toContain('hunter2');
  });
});

describe('parseRetentionDays', () => {
  it.each([
    ['0', 0],
    ['90', 90],
    [' 30 ', 30],
    [String(MAX_RETENTION_DAYS), MAX_RETENTION_DAYS],
  ])('%j is %d days', (text, days) => {
    expect(parseRetentionDays(text)).toBe(days);
  });

  it.each(['', 'x', '-5', '2.5', '1e3', '0x10', String(MAX_RETENTION_DAYS + 1)])('%j is refused', (text) => {
    expect(codeOf(() => parseRetentionDays(text)).code).toBe('invalid_database_url');
  });
});

describe('checkRetentionDays', () => {
  it('accepts whole days and refuses the rest', () => {
    expect(checkRetentionDays(14)).toBe(14);
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_RETENTION_DAYS + 1]) {
      expect(codeOf(() => checkRetentionDays(bad)).code).toBe('invalid_database_url');
    }
  });
});
