import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpSender } from './send.ts';

// A receiver on loopback: hangs on /hang, redirects on /moved, else 204.
const server = createServer((req, res) => {
  if (req.url === '/hang') return;
  if (req.url === '/moved') return void res.writeHead(302, { location: '/target' }).end();
  res.writeHead(204).end();
});
let base: string;
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const post = (path: string, timeoutMs = 2000, host = base) =>
  httpSender({ url: new URL(`${host}${path}`), headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs, allowlisted: true });

describe('httpSender', () => {
  test('answers the status, and does not follow a redirect', async () => {
    await expect(post('/ok')).resolves.toEqual({ status: 204 });
    await expect(post('/moved')).resolves.toEqual({ status: 302 });
  });

  test('gives up after the timeout with webhook_timeout', async () => {
    await expect(post('/hang', 150)).rejects.toMatchObject({ code: 'webhook_timeout' });
  });

  test('a host that is not allowlisted is vetted at connect time', async () => {
    const port = new URL(base).port;
    const req = httpSender({ url: new URL(`http://localhost:${port}/ok`), headers: {}, body: '', timeoutMs: 2000, allowlisted: false });
    await expect(req).rejects.toMatchObject({ code: 'callback_url_forbidden' });
  });
});
