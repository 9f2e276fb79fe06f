/**
 * providerFetch under the official SDKs, against a real HTTP server that answers what each test
 * needs: the request arrives whole, every response shape reaches the SDK as fetch would give it,
 * and failures (status, timeout, abort, refused connection) keep their classification.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { AnthropicProvider } from './anthropic.ts';
import { classifyProviderError } from './classify.ts';
import { OpenAiProvider } from './openai.ts';
import { providerFetch } from './transport.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void;

const completion = { id: 'c1', object: 'chat.completion', model: 'gpt-4', choices: [{ index: 0, message: { role: 'assistant', content: 'Plan.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } };

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    answer(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion));
});

const request = { system: 'sys', user: 'Current role: Nurse', model: 'gpt-4', maxOutputTokens: 50, temperature: 0.4, jobId: 'job-1', timeoutMs: 5000 };

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

describe('the request reaches the provider whole', () => {
  test('OpenAI: method, path, the SDK headers, ours, and the JSON body', async () => {
    const result = await new OpenAiProvider('openai', `${base}/v1`, 'sk-test').complete(request);
    expect(result).toMatchObject({ text: 'Plan.', inputTokens: 11, outputTokens: 3, finishReason: 'stop' });
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(call!.headers).toMatchObject({ authorization: 'Bearer sk-test', 'x-gateway-job-id': 'job-1', 'content-type': 'application/json' });
    expect(JSON.parse(call!.body)).toMatchObject({ model: 'gpt-4', max_completion_tokens: 50, temperature: 0.4 });
  });

  test('Anthropic: the key and the Messages body', async () => {
    answer = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'm1', type: 'message', role: 'assistant', model: 'claude-3-5-sonnet-20241022', content: [{ type: 'text', text: 'Plan.' }], stop_reason: 'end_turn', usage: { input_tokens: 9, output_tokens: 2 } }));
    const result = await new AnthropicProvider('anthropic', base, 'ak-test').complete({ ...request, model: 'claude-3-5-sonnet-20241022' });
    expect(result).toMatchObject({ text: 'Plan.', inputTokens: 9, outputTokens: 2 });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/messages' });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer ak-test', 'x-gateway-job-id': 'job-1' });
  });
});

describe('responses reach the SDK as fetch would give them', () => {
  test('status, repeated headers and the body', async () => {
    answer = (_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(201, { 'x-one': 'yes' }).end('hello');
    };
    const res = await providerFetch(`${base}/x`, { method: 'post', body: 'ping' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-one')).toBe('yes');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('hello');
    expect(seen[0]).toMatchObject({ method: 'POST', body: 'ping' });
  });

  test('a 204 resolves with no body', async () => {
    answer = (_req, res) => res.writeHead(204).end();
    const res = await providerFetch(`${base}/x`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  test('a redirect is followed, as fetch does', async () => {
    answer = (req, res) => (req.url === '/old' ? res.writeHead(307, { location: '/new' }).end() : res.writeHead(200).end(req.url));
    const res = await providerFetch(`${base}/old`, { method: 'POST', body: 'x' });
    expect(await res.text()).toBe('/new');
  });

  test('a streamed upload body goes through the global fetch', async () => {
    const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('streamed')), c.close()) });
    const res = await providerFetch(`${base}/x`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect(seen[0]!.body).toBe('streamed');
  });
});

describe('failures keep their classification', () => {
  test('a 429 with Retry-After: rate limited, the hint read', async () => {
    answer = (_req, res) => res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}');
    const error = await failure(new OpenAiProvider('openai', `${base}/v1`, 'k').complete(request));
    expect(classifyProviderError(error)).toMatchObject({ code: 'provider_rate_limited', status: 429, retryAfterMs: 3000 });
  });

  test('no answer within the timeout: provider_timeout', async () => {
    answer = () => undefined;
    const error = await failure(new OpenAiProvider('openai', `${base}/v1`, 'k').complete({ ...request, timeoutMs: 150 }));
    expect(classifyProviderError(error)).toMatchObject({ code: 'provider_timeout', retryable: true });
  });

  test("the caller's abort stops the call with the SDK's abort error", async () => {
    answer = () => undefined;
    const controller = new AbortController();
    const call = failure(new OpenAiProvider('openai', `${base}/v1`, 'k').complete({ ...request, signal: controller.signal }));
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();
    expect((await call as Error).constructor.name).toBe('APIUserAbortError');
  });

  test('a refused connection: provider_connection_error', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(new OpenAiProvider('openai', `http://127.0.0.1:${port}/v1`, 'k').complete(request));
    expect(classifyProviderError(error)).toMatchObject({ code: 'provider_connection_error', retryable: true });
  });
});
