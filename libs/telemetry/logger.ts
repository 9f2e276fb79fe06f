import { pino, type Logger } from 'pino';
import { createRedactor, secretsFromEnv, type Redactor } from './redact.ts';

let processRedactor: Redactor | undefined;

/** The Redactor for this process's own secrets (read from process.env once, on first use). */
export function redactorForProcess(): Redactor {
  processRedactor ??= createRedactor(secretsFromEnv(process.env));
  return processRedactor;
}

/** Options of createLogger. */
export interface LoggerOptions {
  /** File descriptor the lines go to. @defaultValue 1 (stdout) */
  fd?: number;
  /** Scrubs every line before it is written. @defaultValue redactorForProcess() */
  redactor?: Redactor;
}

/**
 * A JSON logger for one process; LOG_LEVEL sets the level (default info). Every line is scrubbed
 * as a whole just before it is written, so credentials are removed from messages, bindings, error
 * messages and stacks alike, whichever library produced them.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', options: LoggerOptions = {}): Logger {
  const redactor = options.redactor ?? redactorForProcess();
  const destination = pino.destination({ dest: options.fd ?? 1, minLength: 0, sync: false });
  const write = destination.write.bind(destination);
  destination.write = (data: string) => write(redactor.lines(data));
  return pino({ name, level, base: { process: name, pid: process.pid } }, destination);
}

/**
 * Logs a process's "ready" line whatever LOG_LEVEL says: supervisors, `npm start` and the tests
 * wait for it.
 */
export function announceReady(log: Logger, fields: object, msg: string): void {
  log.child({}, { level: 'info' }).info(fields, msg);
}

const scrubbed = Symbol.for('llm-gateway.scrubbedStdio');

/**
 * Scrubs whatever this process prints through process.stdout and process.stderr (console.log,
 * console.error, and libraries that print on their own, such as ioredis's "Unhandled error event")
 * with the same Redactor as the logger. Idempotent.
 */
export function scrubConsoleOutput(redactor: Redactor = redactorForProcess()): void {
  for (const stream of [process.stdout, process.stderr]) {
    const tagged = stream as unknown as Record<symbol, boolean>;
    if (tagged[scrubbed]) continue;
    tagged[scrubbed] = true;
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(typeof chunk === 'string' ? redactor.lines(chunk) : chunk, ...rest)) as typeof stream.write;
  }
}
