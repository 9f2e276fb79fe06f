import { pino, type Logger } from 'pino';

/** A JSON logger for one process; LOG_LEVEL sets the level (default info). */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { process: name, pid: process.pid } });
}

/**
 * Logs a process's "ready" line whatever LOG_LEVEL says: supervisors, `npm start` and the tests
 * wait for it.
 */
export function announceReady(log: Logger, fields: object, msg: string): void {
  log.child({}, { level: 'info' }).info(fields, msg);
}
