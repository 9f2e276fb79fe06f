import { createServer } from 'node:http';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { describeBound } from './bound.ts';

describe('describeBound', () => {
  it.each([
    [{ address: '127.0.0.1', family: 'IPv4', port: 3000 }, 'http://127.0.0.1:3000', false],
    [{ address: '0.0.0.0', family: 'IPv4', port: 3000 }, 'http://0.0.0.0:3000', true],
    [{ address: '::', family: 'IPv6', port: 8080 }, 'http://[::]:8080', true],
    [{ address: '::1', family: 'IPv6', port: 8080 }, 'http://[::1]:8080', false],
  ])('%o reads %s', (address, url, all) => {
    expect(describeBound(address)).toEqual({ address: address.address, port: address.port, url, allInterfaces: all });
  });

  it('refuses a pipe or an unbound server', () => {
    expect(() => describeBound(null)).toThrow(/not bound/);
    expect(() => describeBound('/tmp/x.sock')).toThrow(/not bound/);
  });

  it("reports the real port of a server bound to port 0 on loopback", async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const bound = describeBound(server.address());
      expect(bound.address).toBe('127.0.0.1');
      expect(bound.port).toBeGreaterThan(0);
      expect(bound.url).toBe(`http://127.0.0.1:${bound.port}`);
    } finally {
      server.close();
    }
  });
});
