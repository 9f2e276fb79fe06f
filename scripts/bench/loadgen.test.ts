import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { jsonPost, openLoop } from './loadgen.ts';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

describe('openLoop', () => {
  test('a keep-alive connection the server closed while idle fails no request (replaced, or its request sent again)', async () => {
    let n = 0;
    server = createServer((req, res) => {
      // Every other answer is slow, so a second connection is needed now and then and sits idle in between.
      const delay = n++ % 2 === 0 ? 150 : 0;
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          const body = '{"ok":true}';
          res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        }, delay),
      );
    });
    // Idle sockets close after 50 ms, sooner than a connection's next turn at 10 requests/s.
    server.keepAliveTimeout = 50;
    // Node 24 keeps an idle socket this much longer than keepAliveTimeout (1 s by default).
    Object.assign(server, { keepAliveTimeoutBuffer: 0 });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const request = jsonPost('127.0.0.1', port, '/', '{}');
    const result = await openLoop({ host: '127.0.0.1', port, connections: 4, rate: 10, durationMs: 2000, request: () => request });
    expect(result.errors).toBe(0);
    expect(result.statuses).toEqual({ 202: 20 });
  });
});
