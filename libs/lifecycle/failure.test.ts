import { describe, expect, test } from 'vitest';
import { GatewayError } from '../errors/index.ts';
import { describeFailure, failureLine } from './failure.ts';

const sysError = (fields: Record<string, unknown>): Error => Object.assign(new Error(String(fields.code)), fields);

describe('describeFailure', () => {
  test.each([
    [new GatewayError('invalid_env', 'Environment variable PORT must be a number. Fix it.'), {}, 'invalid_env', 'Environment variable PORT must be a number. Fix it.'],
    [new GatewayError('invalid_config', 'Config file a.json is bad:\n  line 2. Fix it.'), {}, 'invalid_config', 'Config file a.json is bad: line 2. Fix it.'],
    [sysError({ code: 'EADDRINUSE', syscall: 'listen', port: 3000, address: '::' }), {}, 'port_in_use', 'Port 3000 on :: is already in use. Stop the process that holds it, or set PORT to a free port.'],
    [sysError({ code: 'EADDRINUSE', port: 4010 }), { portVariable: 'SIMULATOR_PORT' }, 'port_in_use', 'Port 4010 is already in use. Stop the process that holds it, or set SIMULATOR_PORT to a free port.'],
    [sysError({ code: 'EACCES', syscall: 'listen', port: 80 }), {}, 'port_not_permitted', 'Port 80 may not be opened by this user. Set PORT to a port above 1023.'],
    [sysError({ code: 'EADDRNOTAVAIL', syscall: 'listen', port: 1, address: '10.9.9.9' }), {}, 'address_not_available', 'Port 1 on 10.9.9.9: this host has no such address. Bind an address of this host.'],
  ])('%s', (err, context, code, message) => {
    expect(describeFailure(err, context)).toEqual({ code, message });
  });

  test('anything else is an internal_error that keeps its stack', () => {
    const err = new TypeError('x is not a function');
    expect(describeFailure(err)).toEqual({ code: 'internal_error', message: 'x is not a function. This is a bug: report it with this line.', stack: err.stack });
    expect(describeFailure('thrown string')).toMatchObject({ code: 'internal_error', message: 'thrown string. This is a bug: report it with this line.' });
  });

  test('a GatewayError is recognised across module copies by its brand, with no stack', () => {
    expect(describeFailure(new GatewayError('redis_unreachable', 'Redis is down.'))).not.toHaveProperty('stack');
  });
});

describe('failureLine', () => {
  test('is one JSON line at the fatal level whose msg reads process: code: message', () => {
    const line = failureLine('api', { code: 'port_in_use', message: 'Port 3000 is already in use.' }, 1000);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ level: 60, time: 1000, process: 'api', pid: process.pid, code: 'port_in_use', msg: 'api: port_in_use: Port 3000 is already in use.' });
  });

  test('an internal error carries its stack inside the same line', () => {
    const line = failureLine('worker', { code: 'internal_error', message: 'boom.', stack: 'Error: boom\n    at x' }, 1);
    expect(line.split('\n')).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ stack: 'Error: boom\n    at x' });
  });
});
