/**
 * The HTTP transport the official SDKs call providers through (their documented `fetch` option).
 *
 * Node's global fetch builds WHATWG streams, a Request and a Response around every call; measured
 * against the simulator, that was about 40% of the SDK's CPU per call, and part of its memory per
 * call in flight. `undici.request` (the library Node's fetch is built on) does the same HTTP
 * exchange without them. The SDK still gets a standard `Response`, built from the whole body, so
 * everything it does with one (status, headers, retry hints, JSON parsing, error mapping) is
 * unchanged. Gateway calls are small and never streamed; a body the SDK would stream up (a file
 * upload) goes through the global fetch as before.
 */
import { Agent, interceptors, request, type Dispatcher } from 'undici';

/** Keep-alive connections to each provider, shared by every SDK client of the process; redirects followed as fetch would. */
const dispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));

type HeaderPairs = Array<[string, string]>;

function responseHeaders(raw: Record<string, string | string[] | undefined>): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (const name in raw) {
    const value = raw[name];
    if (typeof value === 'string') pairs.push([name, value]);
    else if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
  }
  return pairs;
}

/** A body `undici.request` sends as is; anything else (streams, forms) keeps the global fetch. */
function isPlainBody(body: unknown): body is string | Uint8Array | undefined | null {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

/** Statuses whose Response must have no body (the Response constructor refuses one). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` for the OpenAI and Anthropic SDKs on `undici.request`: same request, same abort and
 * timeout behaviour (an aborted call rejects with an `AbortError`, which the SDKs map to their
 * timeout and abort errors), the whole response read before it resolves.
 */
export async function providerFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request || !isPlainBody(init.body)) {
    return fetch(input, init);
  }
  const res = await request(input, {
    method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
    headers: init.headers as Dispatcher.RequestOptions['headers'],
    body: init.body ?? null,
    signal: init.signal ?? undefined,
    dispatcher,
  });
  const body = await res.body.arrayBuffer();
  return new Response(NULL_BODY_STATUS.has(res.statusCode) ? null : body, {
    status: res.statusCode,
    headers: responseHeaders(res.headers),
  });
}
