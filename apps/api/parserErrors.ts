/**
 * Requests Node's HTTP parser refuses before Express sees them (a control character in a header,
 * headers over the size limit, a malformed request line) get the same JSON error body as every
 * other answer, instead of Node's bare status line.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, GatewayError } from '../../libs/errors/index.ts';

/** The answer to a request the parser refused with `code` (Node's `HPE_…` codes). */
export function parserRefusal(code: string | undefined): GatewayError {
  if (code === 'HPE_HEADER_OVERFLOW') return new GatewayError('headers_too_large', 'The request headers are larger than the server accepts (16 KiB).', { status: 431 });
  if (code === 'HPE_REQUEST_TIMEOUT' || code === 'ERR_HTTP_REQUEST_TIMEOUT') return new GatewayError('request_timeout', 'The request did not arrive in time.', { status: 408 });
  return new GatewayError('malformed_request', 'The request is not well-formed HTTP (a header with control characters, or a bad request line).', { status: 400 });
}

/** The raw HTTP/1.1 bytes of that answer, closing the connection. */
export function parserRefusalResponse(error: GatewayError): string {
  const body = JSON.stringify(errorBody(error));
  const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[error.status] ?? 'Bad Request';
  return [
    `HTTP/1.1 ${error.status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Answers the parser's refusals on `server` with a JSON error body; a connection already gone is just closed. */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end(parserRefusalResponse(parserRefusal(err.code)));
  });
}
