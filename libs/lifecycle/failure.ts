/**
 * What a process prints when it cannot go on: one line with a stable code, what is wrong and what
 * to do. Pure; startup.ts prints the line and exits.
 */
import { isGatewayError } from '../errors/index.ts';

/** An error that ends a process, classified. */
export interface ProcessFailure {
  /** Stable code, e.g. `invalid_env`, `port_in_use`, `internal_error`. */
  code: string;
  /** One line: what is wrong, then what to do. */
  message: string;
  /** The stack, kept only for errors no rule recognises (bugs), where it is the one clue. */
  stack?: string;
}

/** What describeFailure needs to know about the process. */
export interface FailureContext {
  /** The variable that sets the port the process listens on. @defaultValue 'PORT' */
  portVariable?: string;
}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  port?: unknown;
  address?: unknown;
}

/**
 * Classifies an error that ends a process: a GatewayError keeps its code and message; a failed
 * listen becomes `port_in_use`, `port_not_permitted` or `address_not_available`; anything else is
 * `internal_error` with its stack.
 */
export function describeFailure(err: unknown, context: FailureContext = {}): ProcessFailure {
  const portVariable = context.portVariable ?? 'PORT';
  if (isGatewayError(err)) return { code: err.code, message: oneLine(err.message) };
  const sys = (typeof err === 'object' && err !== null ? err : {}) as SystemError;
  const where = `${sys.port === undefined ? 'The port' : `Port ${String(sys.port)}`}${typeof sys.address === 'string' ? ` on ${sys.address}` : ''}`;
  if (sys.code === 'EADDRINUSE') {
    return { code: 'port_in_use', message: `${where} is already in use. Stop the process that holds it, or set ${portVariable} to a free port.` };
  }
  if (sys.code === 'EACCES' && sys.syscall === 'listen') {
    return { code: 'port_not_permitted', message: `${where} may not be opened by this user. Set ${portVariable} to a port above 1023.` };
  }
  if (sys.code === 'EADDRNOTAVAIL') {
    return { code: 'address_not_available', message: `${where}: this host has no such address. Bind an address of this host.` };
  }
  const message = err instanceof Error ? err.message || err.name : String(err);
  const failure: ProcessFailure = { code: 'internal_error', message: `${oneLine(message)}. This is a bug: report it with this line.` };
  if (err instanceof Error && err.stack) failure.stack = err.stack;
  return failure;
}

/**
 * The line printed for `failure` of process `name`: JSON at pino's fatal level (60), like every
 * other line the gateway writes, whose `msg` reads `<name>: <code>: <message>`.
 */
export function failureLine(name: string, failure: ProcessFailure, now = Date.now()): string {
  return JSON.stringify({
    level: 60,
    time: now,
    process: name,
    pid: process.pid,
    code: failure.code,
    ...(failure.stack === undefined ? {} : { stack: failure.stack }),
    msg: `${name}: ${failure.code}: ${failure.message}`,
  });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
