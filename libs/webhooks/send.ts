/**
 * The HTTP transport of webhook delivery: one POST, no redirects followed (node:http never follows
 * them), a deadline for the whole exchange, and, for hosts not allowlisted, a connect-time address
 * check (guardedLookup) so a name cannot be re-pointed at the gateway's own network between check
 * and connect.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup } from './ssrf.ts';

/** One webhook POST. */
export interface WebhookRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds for connect, send and the whole answer. */
  timeoutMs: number;
  /** Skip the connect-time address check (the host is allowlisted). */
  allowlisted: boolean;
}

/** What delivery needs from the answer. */
export interface WebhookResponse {
  status: number;
}

/** Sends one webhook; rejects when no answer came (refused, reset, timeout, forbidden address). */
export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>;

/** Error code of a sender that gave up waiting. */
export const WEBHOOK_TIMEOUT = 'webhook_timeout';

const lookup = guardedLookup();

/** The default WebhookSender, on node:http(s). The answer body is read and discarded. */
export const httpSender: WebhookSender = (req) =>
  new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(req.timeoutMs);
    const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(req.url, {
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      signal,
      ...(req.allowlisted ? {} : { lookup }),
    });
    outgoing.on('response', (res: IncomingMessage) => {
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.resume();
    });
    outgoing.on('error', (err) => {
      reject(signal.aborted ? Object.assign(new Error(`No answer within ${req.timeoutMs} ms.`), { code: WEBHOOK_TIMEOUT }) : err);
    });
    outgoing.end(req.body);
  });
