import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { assignRequestId, requestLogging } from './requestLog.ts';

type Middleware = (req: unknown, res: unknown, next: () => void) => void;

function fakeExchange(url: string, headers: Record<string, string>, status: number) {
  const req = Object.assign(new EventEmitter(), { method: 'POST', url, headers, socket: { remoteAddress: '127.0.0.1' }, baseUrl: '/v1', route: { path: '/jobs' } });
  const sent: Record<string, string> = {};
  const res = Object.assign(new EventEmitter(), { statusCode: status, locals: {} as Record<string, unknown>, setHeader: (k: string, v: string) => void (sent[k] = v), getHeader: (k: string) => sent[k], getHeaders: () => sent });
  return { req, res, sent };
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  return { lines, log: pino({ level: 'info' }, stream) };
}

describe('request logging', () => {
  test('one line with method, route, status, duration, request id and client id; no headers', async () => {
    const { lines, log } = capture();
    const { req, res, sent } = fakeExchange('/v1/jobs?user_id=u1', { authorization: 'Bearer gk_secret-key-000000', 'x-request-id': 'rails-123' }, 202);
    (assignRequestId() as unknown as Middleware)(req, res, () => {});
    (requestLogging(log) as unknown as Middleware)(req, res, () => {});
    res.locals.clientId = 'demo';
    res.setHeader('location', '/v1/jobs/0b1f8c2e-4b8a-4c1e-9d7a-2f2a1d6c9e10');
    res.emit('finish');
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent['x-request-id']).toBe('rails-123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, component: 'http', requestId: 'rails-123', method: 'POST', route: '/v1/jobs', status: 202, durationMs: expect.any(Number), clientId: 'demo', jobId: '0b1f8c2e-4b8a-4c1e-9d7a-2f2a1d6c9e10', msg: 'POST /v1/jobs 202' });
    expect(JSON.stringify(lines)).not.toMatch(/secret-key|authorization|user_id/i);
  });

  test('a 5xx is an error line; probes are not logged; a hostile id is replaced', async () => {
    const { lines, log } = capture();
    for (const [url, status, id] of [['/v1/jobs', 503, 'bad id\r\n'], ['/healthz', 200, 'x'], ['/metrics?x=1', 200, 'y']] as const) {
      const { req, res, sent } = fakeExchange(url, { 'x-request-id': id }, status);
      (assignRequestId() as unknown as Middleware)(req, res, () => {});
      (requestLogging(log) as unknown as Middleware)(req, res, () => {});
      res.emit('finish');
      if (status === 503) expect(sent['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.level, l.status])).toEqual([[50, 503]]);
  });
});
