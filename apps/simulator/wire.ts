/**
 * The OpenAI Chat Completions and Anthropic Messages wire formats: request validation and the
 * bodies and headers of answers and errors. No I/O; the server writes the returned Reply.
 */
import { randomUUID } from 'node:crypto';
import type { Provider } from './knobs.ts';
import type { GenerationReceived } from './received.ts';

/** An HTTP answer ready to write. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the simulator needs from a valid request. */
export interface ParsedRequest {
  model: string;
  /** All message text, system included, joined by newlines: the prompt the answer derives from. */
  prompt: string;
  /** Characters of all message contents, system included (the input token estimate's base). */
  inputChars: number;
  /** Output limit in tokens; undefined when the request sets none (OpenAI only). */
  maxTokens: number | undefined;
  /** The generation parameters as sent, normalised across the two formats. */
  received: GenerationReceived;
}

/** A request that parsed, or the 400 message to send back. */
export type ParseResult = { ok: true; request: ParsedRequest } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Text of a content field: a string, or a list of parts/blocks whose `text` fields count. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

const positiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

/** Validates a request body (raw text) in the provider's format. */
export function parseRequest(provider: Provider, raw: string): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { ok: false, message: 'We could not parse the JSON body of your request.' };
  }
  if (!isObject(body)) return { ok: false, message: 'The request body must be a JSON object.' };
  if (typeof body.model !== 'string' || body.model === '') return { ok: false, message: 'model: Field required' };
  if (!Array.isArray(body.messages) || body.messages.length === 0 || !body.messages.every(isObject)) {
    return { ok: false, message: 'messages: must be a non-empty array of message objects' };
  }
  if (body.stream === true) return { ok: false, message: 'stream: streaming is not supported by the simulator' };
  const texts = (body.messages as Record<string, unknown>[]).map((m) => contentText(m.content));
  let maxTokens: unknown;
  if (provider === 'anthropic') {
    if (!positiveInt(body.max_tokens)) return { ok: false, message: 'max_tokens: Field required (a positive integer)' };
    maxTokens = body.max_tokens;
    texts.unshift(contentText(body.system));
  } else {
    maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    if (maxTokens !== undefined && maxTokens !== null && !positiveInt(maxTokens)) {
      return { ok: false, message: 'max_tokens: must be a positive integer' };
    }
  }
  const inputChars = texts.reduce((sum, t) => sum + t.length, 0);
  const prompt = texts.filter((t) => t !== '').join('\n');
  return { ok: true, request: { model: body.model, prompt, inputChars, maxTokens: (maxTokens as number | null) ?? undefined, received: generationOf(provider, body) } };
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** The generation parameters of a parsed body, in one shape for both providers. */
function generationOf(provider: Provider, body: Record<string, unknown>): GenerationReceived {
  const messages = body.messages as Record<string, unknown>[];
  const textOf = (roles: string[]) => messages.filter((m) => roles.includes(String(m.role))).map((m) => contentText(m.content)).join('\n');
  const stop = provider === 'anthropic' ? body.stop_sequences : body.stop;
  const max = provider === 'anthropic' ? body.max_tokens : (body.max_completion_tokens ?? body.max_tokens);
  return {
    system: provider === 'anthropic' ? contentText(body.system) : textOf(['system', 'developer']),
    user: textOf(['user']),
    temperature: numberOrNull(body.temperature),
    top_p: numberOrNull(body.top_p),
    max_tokens: numberOrNull(max),
    stop: typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [],
  };
}

/** Tokens for a text length: one token per four characters, rounded up. */
export const tokensFor = (chars: number): number => Math.ceil(chars / 4);

/** The answer text cut to the output limit, with its token counts. */
export function limitAnswer(answer: string, inputChars: number, maxTokens: number | undefined) {
  const truncated = maxTokens !== undefined && tokensFor(answer.length) > maxTokens;
  const text = truncated ? answer.slice(0, maxTokens * 4) : answer;
  return { text, truncated, inputTokens: tokensFor(inputChars), outputTokens: tokensFor(text.length) };
}

const compactId = (): string => randomUUID().replaceAll('-', '');

function baseHeaders(provider: Provider): Record<string, string> {
  const id = `req_${compactId()}`;
  return provider === 'openai'
    ? { 'content-type': 'application/json', 'x-request-id': id }
    : { 'content-type': 'application/json', 'request-id': id };
}

/** A successful completion in the provider's format, with the tokens it bills. */
export function successReply(provider: Provider, req: ParsedRequest, answer: string): Reply & { usage: { inputTokens: number; outputTokens: number } } {
  const { text, truncated, inputTokens, outputTokens } = limitAnswer(answer, req.inputChars, req.maxTokens);
  const body =
    provider === 'openai'
      ? {
          id: `chatcmpl-${compactId()}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: req.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: text, refusal: null, annotations: [] },
              logprobs: null,
              finish_reason: truncated ? 'length' : 'stop',
            },
          ],
          usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
          service_tier: 'default',
          system_fingerprint: 'fp_simulator',
        }
      : {
          id: `msg_${compactId()}`,
          type: 'message',
          role: 'assistant',
          model: req.model,
          content: [{ type: 'text', text }],
          stop_reason: truncated ? 'max_tokens' : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: inputTokens, output_tokens: outputTokens },
        };
  return { status: 200, headers: baseHeaders(provider), body: JSON.stringify(body), usage: { inputTokens, outputTokens } };
}

const OPENAI_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
};

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

const MESSAGES: Record<number, string> = {
  429: 'Rate limit reached for requests (simulated). Please try again later.',
  500: 'The server had an error while processing your request (simulated).',
  503: 'The service is overloaded (simulated). Please try again later.',
  529: 'Overloaded (simulated).',
};

/** An error in the provider's format; 429s carry `retry-after` and rate-limit headers. */
export function errorReply(provider: Provider, status: number, message?: string, retryAfterS = 1): Reply {
  const text = message ?? MESSAGES[status] ?? `Simulated error ${status}.`;
  const headers = baseHeaders(provider);
  if (status === 429) {
    headers['retry-after'] = String(retryAfterS);
    if (provider === 'openai') {
      headers['x-ratelimit-limit-requests'] = '10000';
      headers['x-ratelimit-remaining-requests'] = '0';
      headers['x-ratelimit-reset-requests'] = `${retryAfterS}s`;
    } else {
      headers['anthropic-ratelimit-requests-limit'] = '4000';
      headers['anthropic-ratelimit-requests-remaining'] = '0';
      headers['anthropic-ratelimit-requests-reset'] = new Date(Date.now() + retryAfterS * 1000).toISOString();
    }
  }
  let body: unknown;
  if (provider === 'openai') {
    const [type, code] = OPENAI_TYPES[status] ?? ['server_error', null];
    body = { error: { message: text, type, param: null, code } };
  } else {
    const type = ANTHROPIC_TYPES[status] ?? 'api_error';
    body = { type: 'error', error: { type, message: text }, request_id: headers['request-id'] };
  }
  return { status, headers, body: JSON.stringify(body) };
}

/** A 200 whose body is broken: variant 0 is truncated JSON, variant 1 valid JSON of the wrong shape. */
export function malformedReply(provider: Provider, variant: 0 | 1): Reply {
  const body =
    variant === 0
      ? provider === 'openai'
        ? '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assist'
        : '{"id":"msg_broken","type":"message","content":[{"type":"text","text":"Here is'
      : JSON.stringify({ status: 'ok', result: null, note: 'simulated malformed answer' });
  return { status: 200, headers: baseHeaders(provider), body };
}
