import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { answerParserErrors, parserRefusal } from './parserErrors.ts';

describe('parserRefusal', () => {
  test.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['HPE_INVALID_HEADER_TOKEN', 400, 'malformed_request'],
    ['HPE_INVALID_METHOD', 400, 'malformed_request'],
    [undefined, 400, 'malformed_request'],
  ])('%s answers %i %s', (code, status, stable) => {
    expect(parserRefusal(code)).toMatchObject({ status, code: stable });
  });
});

/** Sends raw bytes to a server answering parser errors, and reads what comes back. */
async function rawExchange(request: string): Promise<string> {
  const server = createServer((_req, res) => res.end('ok'));
  answerParserErrors(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(request);
    await once(socket, 'close');
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    server.close();
  }
}

describe('answerParserErrors', () => {
  test('a control character in a header gets a JSON 400 with a stable code', async () => {
    const answer = await rawExchange('GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
    expect(answer).toContain('X-Content-Type-Options: nosniff');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: expect.objectContaining({ code: 'malformed_request' }) });
  });

  test('headers over the limit get a JSON 431', async () => {
    const answer = await rawExchange(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1.1 431 /);
    expect(answer).toContain('"code":"headers_too_large"');
  });
});
